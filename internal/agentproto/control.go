package agentproto

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Control messages (spec §5.1) are payloads starting with "#!-"; every other
// payload is an event "<queue>:<location>:<message>" (spec §8). A "␠" in the
// comments below marks a significant trailing space.
const (
	// ControlHeader starts every control message.
	ControlHeader = "#!-"
	// MsgAck is the manager's answer to a startup or keepalive: "#!-agent ack␠", 13 bytes.
	MsgAck = "#!-agent ack "
	// MsgShutdown is the agent's exit notice: "#!-agent shutdown␠"; it gets no ACK.
	MsgShutdown = "#!-agent shutdown "
	// MsgStartupLegacy is the startup of agents before 4.6: "#!-agent startup␠".
	MsgStartupLegacy = "#!-agent startup "
	// MsgForceReconnect makes the agent run its handshake again.
	MsgForceReconnect = "#!-force_reconnect"
	// ErrVersionTooHigh is the #!-err message for an agent newer than the manager.
	ErrVersionTooHigh = "Agent version must be lower or equal to manager version"
	// ErrVersionMissing is the #!-err message for a startup JSON without "version".
	ErrVersionMissing = "Couldn't retrieve version"

	startupBody  = "agent startup "
	shutdownBody = "agent shutdown "
	ackBody      = "agent ack "
	requestBody  = "req "
	errBody      = "err "
	execdBody    = "execd "
)

// AgentKind classifies a payload received from an agent.
type AgentKind int

// Kinds of agent payloads.
const (
	AgentEvent     AgentKind = iota // not a control message
	AgentStartup                    // "#!-agent startup ..." (ACK unless the version is refused)
	AgentShutdown                   // exactly "#!-agent shutdown␠" (no ACK)
	AgentKeepalive                  // any other control message with a LF (ACK)
	AgentRequest                    // "#!-req <counter> <payload>" (no ACK)
)

// Startup is the content of a startup message.
type Startup struct {
	Info       bool   // a JSON object followed "agent startup " and parsed
	Version    string // its "version" member
	HasVersion bool   // the object had a string "version"
}

// AgentControl is a parsed payload from an agent.
type AgentControl struct {
	Kind      AgentKind
	Startup   Startup   // AgentStartup
	Keepalive Keepalive // AgentKeepalive
	Counter   string    // AgentRequest
	Body      []byte    // AgentRequest payload; AgentEvent: the whole payload
}

// ParseAgentControl classifies an agent payload as remoted does: "req " first,
// then (after replacing invalid UTF-8) startup by prefix, shutdown by exact
// match, anything else as a keepalive, which needs a LF (ErrInvalidKeepalive:
// no ACK). Payloads without "#!-" are events.
func ParseAgentControl(payload []byte) (AgentControl, error) {
	body, ok := bytes.CutPrefix(payload, []byte(ControlHeader))
	if !ok {
		return AgentControl{Kind: AgentEvent, Body: payload}, nil
	}
	if rest, ok := bytes.CutPrefix(body, []byte(requestBody)); ok {
		counter, data, found := bytes.Cut(rest, []byte(" "))
		if !found {
			return AgentControl{}, ErrBadRequest
		}
		return AgentControl{Kind: AgentRequest, Counter: string(counter), Body: data}, nil
	}
	if i := bytes.IndexByte(body, 0); i >= 0 {
		body = body[:i] // the reference handles the rest as a C string
	}
	text := sanitizeUTF8(body)
	switch {
	case strings.HasPrefix(text, startupBody):
		return AgentControl{Kind: AgentStartup, Startup: parseStartup(text)}, nil
	case text == shutdownBody:
		return AgentControl{Kind: AgentShutdown}, nil
	}
	k, err := ParseKeepalive(text)
	if err != nil {
		return AgentControl{}, err
	}
	return AgentControl{Kind: AgentKeepalive, Keepalive: k}, nil
}

// parseStartup reads the JSON object starting at the first '{', if any. Like
// the reference, a missing or unparsable object is a valid legacy startup.
func parseStartup(text string) Startup {
	i := strings.IndexByte(text, '{')
	if i < 0 {
		return Startup{}
	}
	var obj struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.NewDecoder(strings.NewReader(text[i:])).Decode(&obj); err != nil {
		return Startup{}
	}
	s := Startup{Info: true}
	if err := json.Unmarshal(obj.Version, &s.Version); err == nil && len(obj.Version) > 0 && obj.Version[0] == '"' {
		s.HasVersion = true
	}
	return s
}

// Reply returns what the manager sends back at once (spec §5.2): MsgAck for a
// keepalive or an accepted startup, a "#!-err" message for a refused startup,
// and nil for shutdowns, requests and events.
func (c AgentControl) Reply(managerVersion string, allowHigher bool) []byte {
	switch c.Kind {
	case AgentKeepalive:
		return []byte(MsgAck)
	case AgentStartup:
		s := c.Startup
		switch {
		case !s.Info:
			return []byte(MsgAck)
		case !s.HasVersion:
			return FormatControlError(ErrVersionMissing)
		case !allowHigher && CompareVersions(managerVersion, s.Version, false) < 0:
			return FormatControlError(ErrVersionTooHigh)
		}
		return []byte(MsgAck)
	}
	return nil
}

// FormatStartup returns the agent's startup message; an empty version gives
// the legacy form without JSON.
func FormatStartup(version string) []byte {
	if version == "" {
		return []byte(MsgStartupLegacy)
	}
	v, _ := json.Marshal(version)
	return []byte(MsgStartupLegacy + `{"version":` + string(v) + `}`)
}

// FormatControlError returns `#!-err {"message":"<message>"}`.
func FormatControlError(message string) []byte {
	m, _ := json.Marshal(message)
	return []byte(ControlHeader + errBody + `{"message":` + string(m) + `}`)
}

// FormatRequest returns "#!-req <counter> <payload>", used both ways.
func FormatRequest(counter string, payload []byte) []byte {
	return append([]byte(ControlHeader+requestBody+counter+" "), payload...)
}

// FormatExecd returns "#!-execd <command>", an active-response command.
func FormatExecd(command string) []byte { return []byte(ControlHeader + execdBody + command) }

// FormatEvent returns an event payload "<queue>:<location>:<message>".
func FormatEvent(queue byte, location, message string) []byte {
	return []byte(string(queue) + ":" + location + ":" + message)
}

// AgentStartedEvent is the event an agent sends after its first handshake:
// "1:wazuh-agent:ossec: Agent started: '<name>-><ip>'.".
func AgentStartedEvent(name, ip string) []byte {
	return FormatEvent('1', "wazuh-agent", "ossec: Agent started: '"+name+"->"+ip+"'.")
}

// sanitizeUTF8 replaces every byte that is not part of valid UTF-8 with U+FFFD.
func sanitizeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}
