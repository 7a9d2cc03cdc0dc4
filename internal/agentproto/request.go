package agentproto

import (
	"bytes"
	"errors"
	"strconv"
)

// The request channel (spec §5.6) carries a question from the manager to one
// of an agent's components and the component's answer back, both as control
// messages "#!-req <counter> <rest>" on the agent's secure session.
//
//	manager → agent   #!-req <counter> <target> <command>     the request
//	agent → manager   #!-req <counter> ack                    receipt (UDP only)
//	agent → manager   #!-req <counter> <response>             the answer
//	manager → agent   #!-req <counter> ack                    receipt of the answer (UDP only)
//
// <counter> is a lowercase hexadecimal number the manager picks for each
// request (at most 8 digits: it is an unsigned 32-bit value) and the agent
// echoes; it is how an answer finds its request. <target> names the
// component: "agent" (the agent daemon itself), "logcollector", "syscheck",
// "wmodules", "com" (execd), "upgrade"; <command> is what the component
// runs, e.g. "getconfig client" or "getstate". Over TCP the stream already
// guarantees delivery, so neither side sends receipts there.
//
// <response> is whatever the component printed. The getconfig commands
// answer "ok <json>" or "err <reason>"; getstate answers a JSON object
// {"error":0,"data":{...}}. When the agent cannot reach the component it
// answers "err <reason>" itself ("err Could not get requested section",
// "err Too many requests", the text of a socket error).
const (
	// RequestAck is the receipt body of either side.
	RequestAck = "ack"
	// MaxCounterLen is the longest counter: eight hex digits.
	MaxCounterLen = 8
)

// Errors of the request channel's messages.
var (
	// ErrBadCounter is a counter that is not 1..8 lowercase hex digits.
	ErrBadCounter = errors.New("agentproto: request counter is not 1..8 hex digits")
	// ErrNoTarget is a manager request without "<target> <command>".
	ErrNoTarget = errors.New("agentproto: request without a target and a command")
)

// FormatCounter renders a request counter as the channel writes it.
func FormatCounter(n uint32) string { return strconv.FormatUint(uint64(n), 16) }

// ValidCounter reports whether s is a counter the manager could have sent.
func ValidCounter(s string) bool {
	if len(s) == 0 || len(s) > MaxCounterLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// FormatAgentRequest returns the manager's request "#!-req <counter>
// <target> <command>".
func FormatAgentRequest(counter, target, command string) []byte {
	return FormatRequest(counter, []byte(target+" "+command))
}

// FormatRequestAck returns the receipt "#!-req <counter> ack".
func FormatRequestAck(counter string) []byte { return FormatRequest(counter, []byte(RequestAck)) }

// AgentRequestCall is a request as the agent reads it.
type AgentRequestCall struct {
	Counter string
	Target  string // the component
	Command string // what it runs, with its arguments
}

// ParseAgentRequest reads the body of a manager request (what follows the
// counter) into its target and command; the agent answers a malformed one
// with nothing, as the reference does.
func ParseAgentRequest(counter string, body []byte) (AgentRequestCall, error) {
	if !ValidCounter(counter) {
		return AgentRequestCall{}, ErrBadCounter
	}
	target, command, ok := bytes.Cut(body, []byte(" "))
	if !ok || len(target) == 0 {
		return AgentRequestCall{}, ErrNoTarget
	}
	return AgentRequestCall{Counter: counter, Target: string(target), Command: string(command)}, nil
}

// RequestReply is what came back for a request, as the manager reads it.
type RequestReply struct {
	Counter string
	Ack     bool   // a receipt, not the answer
	Data    []byte // the answer: "ok ...", "err ..." or a JSON object
}

// ParseRequestReply reads the counter and body of an agent's "#!-req"
// message (AgentControl.Counter and Body) as a receipt or an answer.
func ParseRequestReply(counter string, body []byte) (RequestReply, error) {
	if !ValidCounter(counter) {
		return RequestReply{}, ErrBadCounter
	}
	if string(body) == RequestAck {
		return RequestReply{Counter: counter, Ack: true}, nil
	}
	return RequestReply{Counter: counter, Data: body}, nil
}

// FormatRequestReply returns the agent's answer "#!-req <counter> <response>".
func FormatRequestReply(counter string, response []byte) []byte {
	return FormatRequest(counter, response)
}

// SplitReplyStatus splits a getconfig-style answer "ok <json>" / "err
// <reason>" at its first space, as Wazuh's API does; ok is false for an
// answer without a space, which the API cannot read.
func SplitReplyStatus(data []byte) (status, rest string, ok bool) {
	s, r, ok := bytes.Cut(data, []byte(" "))
	return string(s), string(r), ok
}
