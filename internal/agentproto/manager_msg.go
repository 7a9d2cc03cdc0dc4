package agentproto

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Messages from the manager to an agent (spec §5.1, §5.4), the agent's view:
//
//	#!-agent ack␠                      handshake / keepalive answer
//	#!-err {"message":"..."}            refused startup
//	#!-up file <md5> <name>\n           start of a shared-file transfer
//	<raw bytes, no "#!-">               file chunk, at most 900 bytes
//	#!-close file␠                      end of the transfer; the agent checks the md5
//	#!-execd <command>                  active response
//	#!-force_reconnect                  run the handshake again
//	#!-req <counter> <payload>          request channel
const (
	fileUpdateBody = "up file "
	fileCloseBody  = "close file "
	forceBody      = "force_reconnect"
)

// ManagerKind classifies a payload received from the manager.
type ManagerKind int

// Kinds of manager payloads.
const (
	ManagerData           ManagerKind = iota // not a control message: a file chunk
	ManagerAck                               // exactly MsgAck
	ManagerError                             // "#!-err {json}"
	ManagerFileUpdate                        // "#!-up file <md5> <name>\n"
	ManagerFileClose                         // "#!-close file␠"
	ManagerExecd                             // "#!-execd <command>"
	ManagerForceReconnect                    // "#!-force_reconnect"
	ManagerRequest                           // "#!-req <counter> <payload>"
	ManagerOther                             // any other control message (module commands)
)

// ManagerMessage is a parsed payload from the manager.
type ManagerMessage struct {
	Kind     ManagerKind
	Message  string // ManagerError: the "message" member; ManagerExecd: the command
	FileSum  string // ManagerFileUpdate
	FileName string // ManagerFileUpdate
	Counter  string // ManagerRequest
	Body     []byte // ManagerData chunk, ManagerRequest payload, ManagerOther text after "#!-"
}

// ParseManagerMessage classifies a decrypted manager payload for an agent.
func ParseManagerMessage(payload []byte) ManagerMessage {
	body, ok := bytes.CutPrefix(payload, []byte(ControlHeader))
	if !ok {
		return ManagerMessage{Kind: ManagerData, Body: payload}
	}
	text := string(body)
	switch {
	case text == ackBody:
		return ManagerMessage{Kind: ManagerAck}
	case strings.HasPrefix(text, errBody):
		var m struct {
			Message string `json:"message"`
		}
		_ = json.NewDecoder(strings.NewReader(text[len(errBody):])).Decode(&m)
		return ManagerMessage{Kind: ManagerError, Message: m.Message}
	case strings.HasPrefix(text, fileUpdateBody):
		rest, _, _ := strings.Cut(text[len(fileUpdateBody):], "\n")
		sum, name, _ := strings.Cut(rest, " ")
		return ManagerMessage{Kind: ManagerFileUpdate, FileSum: sum, FileName: name}
	case strings.HasPrefix(text, fileCloseBody):
		return ManagerMessage{Kind: ManagerFileClose}
	case strings.HasPrefix(text, execdBody):
		return ManagerMessage{Kind: ManagerExecd, Message: text[len(execdBody):]}
	case strings.HasPrefix(text, forceBody):
		return ManagerMessage{Kind: ManagerForceReconnect}
	case strings.HasPrefix(text, requestBody):
		counter, data, _ := bytes.Cut(body[len(requestBody):], []byte(" "))
		return ManagerMessage{Kind: ManagerRequest, Counter: string(counter), Body: data}
	}
	return ManagerMessage{Kind: ManagerOther, Body: body}
}
