package agentproto

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Enrollment reply (spec §2.6), written in one TLS write, no trailing LF; the
// manager then closes the connection:
//
//	success:  OSSEC K:'<id> <name> <ip> <key>'
//	failure:  <reason>. Unable to add agent        (reason starts with "ERROR: ")
const (
	keyReplyPrefix = "OSSEC K:'"
	errorSuffix    = ". Unable to add agent"
	errorPrefix    = "ERROR: "
	maxReplySize   = 65536
)

// Fixed refusal reasons, exactly as authd words them (typos included).
const (
	ReasonInvalidPassword     = "ERROR: Invalid password"
	ReasonInvalidRequest      = "ERROR: Invalid request for new agent"
	ReasonUnterminatedVersion = "ERROR: Unterminated version field"
	ReasonIncompatibleVersion = "ERROR: Agent version must be lower or equal to manager version"
	ReasonUnterminatedGroup   = "ERROR: Unterminated group field"
	ReasonEmptyGroup          = "ERROR: Invalid group name: Empty Group"
	ReasonMaxGroups           = "ERROR: Maximum multigroup reached: Limit is 128"
	ReasonUnterminatedIP      = "ERROR: Unterminated IP field"
	ReasonUnterminatedKey     = "ERROR: Unterminated key field"
	ReasonNoMemory            = "ERROR: Insuficient memory"
	ReasonNoMaster            = "ERROR: Cannot comunicate with master"
	ReasonInternalValidation  = "ERROR: Internal validation error"
)

// EnrollError is a refusal: Reason is the text authd sends before
// ". Unable to add agent".
type EnrollError struct {
	Reason string
}

// Error returns the reason.
func (e *EnrollError) Error() string { return "agentproto: enrollment refused: " + e.Reason }

// Reply returns the exact bytes to send to the agent.
func (e *EnrollError) Reply() []byte { return FormatEnrollError(e.Reason) }

// Is matches another *EnrollError with the same reason, so errors.Is works
// against values such as RefuseDuplicateName("web01").
func (e *EnrollError) Is(target error) bool {
	t, ok := target.(*EnrollError)
	return ok && t.Reason == e.Reason
}

func refuse(reason string) *EnrollError { return &EnrollError{Reason: reason} }

// RefuseInvalidName is "ERROR: Invalid agent name: <name>" (bad syntax, or the manager's host name).
func RefuseInvalidName(name string) *EnrollError { return refuse("ERROR: Invalid agent name: " + name) }

// RefuseInvalidIP is "ERROR: Invalid IP: <ip>".
func RefuseInvalidIP(ip string) *EnrollError { return refuse("ERROR: Invalid IP: " + ip) }

// RefuseInvalidGroupName is "ERROR: Invalid group name: <group>" (regex, "." or "..").
func RefuseInvalidGroupName(group string) *EnrollError {
	return refuse("ERROR: Invalid group name: " + group)
}

// RefuseUnknownGroup is "ERROR: Invalid group: <group>" (no etc/shared/<group>).
func RefuseUnknownGroup(group string) *EnrollError { return refuse("ERROR: Invalid group: " + group) }

// RefuseDuplicateIP is "ERROR: Duplicate IP: <ip>".
func RefuseDuplicateIP(ip string) *EnrollError { return refuse("ERROR: Duplicate IP: " + ip) }

// RefuseDuplicateName is "ERROR: Duplicate agent name: <name>".
func RefuseDuplicateName(name string) *EnrollError {
	return refuse("ERROR: Duplicate agent name: " + name)
}

// RefuseInternal is "ERROR: Internal manager error adding agent: <name>".
func RefuseInternal(name string) *EnrollError {
	return refuse("ERROR: Internal manager error adding agent: " + name)
}

// RefuseAgentLimit is "ERROR: Agent limit (<n>) reached".
func RefuseAgentLimit(n int) *EnrollError {
	return refuse(fmt.Sprintf("ERROR: Agent limit (%d) reached", n))
}

// FormatEnrollError returns "<reason>. Unable to add agent".
func FormatEnrollError(reason string) []byte { return []byte(reason + errorSuffix) }

// FormatEnrollSuccess returns "OSSEC K:'<id> <name> <ip> <key>'".
func FormatEnrollSuccess(e KeyEntry) []byte {
	return []byte(keyReplyPrefix + e.ID + " " + e.Name + " " + e.IP + " " + e.Key + "'")
}

// ParseEnrollReply is the agent's side: it returns the key entry of a success,
// an *EnrollError for an "ERROR: " reply, or ErrUnexpectedReply. A key is
// accepted like the agent does: four space-separated parts, an ID of 1 to 8
// digits, a valid name, a valid IP ("any" included) and a key of name syntax.
func ParseEnrollReply(reply []byte) (KeyEntry, error) {
	s := string(reply)
	if rest, ok := strings.CutPrefix(s, keyReplyPrefix); ok {
		body, _, closed := strings.Cut(rest, "'")
		parts := strings.SplitN(body, " ", 4)
		if !closed || len(parts) != 4 {
			return KeyEntry{}, fmt.Errorf("%w: invalid keys format", ErrUnexpectedReply)
		}
		e := KeyEntry{ID: parts[0], Name: parts[1], IP: parts[2], Key: parts[3]}
		_, ipErr := ParseIPRange(e.IP)
		if e.ID == "" || len(e.ID) > 8 || !allDigits(e.ID) || !ValidAgentName(e.Name) || ipErr != nil || !ValidAgentName(e.Key) {
			return KeyEntry{}, fmt.Errorf("%w: a key parameter has an invalid format", ErrUnexpectedReply)
		}
		return e, nil
	}
	if strings.HasPrefix(s, errorPrefix) {
		s = strings.TrimRight(s, "\r\n")
		return KeyEntry{}, refuse(strings.TrimSuffix(s, errorSuffix))
	}
	return KeyEntry{}, ErrUnexpectedReply
}

// ReadEnrollReply reads the manager's reply until it closes the connection,
// refusing more than 64 KiB.
func ReadEnrollReply(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxReplySize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxReplySize {
		return nil, fmt.Errorf("%w: reply longer than %d bytes", ErrUnexpectedReply, maxReplySize)
	}
	return bytes.TrimRight(b, "\x00"), nil
}
