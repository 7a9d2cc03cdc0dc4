package agentproto

import (
	"bytes"
	"io"
	"strings"
)

// Enrollment request (spec §2.2), one line sent inside TLS on port 1515:
//
//	[ "OSSEC PASS: " password " " ] "OSSEC A:'" name "'"
//	[ " V:'" version "'" ] [ " G:'" groups "'" ] [ " IP:'" (ip | "src") "'" ]
//	[ " K:'" sha1hex(id name raw) "'" ] LF
//
// The optional fields are looked for only at the current position and only in
// the order V, G, IP, K; a field out of order, and everything after it, is
// silently ignored, like any text after the last recognised field. Each value
// is read the way the reference's sscanf reads it: at most `width` bytes, up to
// the first quote (IP also stops at a space), and the byte after that must be
// the closing quote or the field is "Unterminated".
const (
	// MaxEnrollRequestSize bounds the request line (MAX_SSL_MSG_SIZE, 65536 + 4096).
	MaxEnrollRequestSize = 65536 + 4096

	passPrefix    = "OSSEC PASS: "
	namePrefix    = "OSSEC A:'"
	versionToken  = " V:"
	groupToken    = " G:"
	ipToken       = " IP:"
	keyToken      = " K:"
	versionWidth  = 2048
	groupWidth    = 65536
	ipWidth       = 46 // IPSIZE
	keyHashWidth  = 40
	srcIPKeyword  = "src"
	maxNameLength = 128
)

// EnrollOptions is the manager configuration the parser needs.
type EnrollOptions struct {
	// Password is the manager's enrollment password; empty when use_password is off.
	Password string
	// ManagerVersion (for example "v4.14.7") enables the V: check; empty skips it.
	ManagerVersion string
	// AllowHigherVersions accepts agents whose major.minor is above the manager's.
	AllowHigherVersions bool
}

// EnrollRequest is a parsed (or to-be-sent) enrollment request.
type EnrollRequest struct {
	Password string   // the password sent; empty when none
	Name     string   // agent name
	Version  string   // agent version such as "v4.14.7"; empty when absent
	Groups   []string // requested groups, repeats removed; nil when absent
	IP       string   // "src", a normalised address or network; empty when absent
	KeyHash  string   // K: hash of the agent's current key; empty when absent
}

// RegistrationIP resolves the IP written to client.keys (spec §2.3).
func (r EnrollRequest) RegistrationIP(sourceIP string, useSourceIP bool) string {
	switch {
	case r.IP == srcIPKeyword:
		return sourceIP
	case r.IP != "":
		return r.IP
	case useSourceIP:
		return sourceIP
	}
	return AnyIP
}

// Format returns the request line the agent sends, LF included.
func (r EnrollRequest) Format() []byte {
	var b strings.Builder
	if r.Password != "" {
		b.WriteString(passPrefix + r.Password + " ")
	}
	b.WriteString(namePrefix + r.Name + "'")
	if r.Version != "" {
		b.WriteString(versionToken + "'" + r.Version + "'")
	}
	if len(r.Groups) > 0 {
		b.WriteString(groupToken + "'" + strings.Join(r.Groups, ",") + "'")
	}
	if r.IP != "" {
		b.WriteString(ipToken + "'" + r.IP + "'")
	}
	if r.KeyHash != "" {
		b.WriteString(keyToken + "'" + r.KeyHash + "'")
	}
	b.WriteByte('\n')
	return []byte(b.String())
}

// ParseEnrollRequest parses and validates a request line as authd does, in its
// order: password, name, version, groups (syntax only), IP, key hash. The line
// ends at the first LF or NUL. A refusal is an *EnrollError whose Reply is the
// exact text to send. Group existence, duplicates and the force rules are the
// caller's (see ValidateGroups).
func ParseEnrollRequest(line []byte, opt EnrollOptions) (EnrollRequest, error) {
	if i := bytes.IndexAny(line, "\n\x00"); i >= 0 {
		line = line[:i]
	}
	buf := string(line)
	var req EnrollRequest
	if opt.Password != "" {
		rest, ok := strings.CutPrefix(buf, passPrefix)
		if !ok || len(rest) <= len(opt.Password) || !strings.HasPrefix(rest, opt.Password) ||
			rest[len(opt.Password)] != ' ' {
			return EnrollRequest{}, refuse(ReasonInvalidPassword)
		}
		req.Password = opt.Password
		buf = rest[len(opt.Password)+1:]
	}
	rest, ok := strings.CutPrefix(buf, namePrefix)
	if !ok {
		return EnrollRequest{}, refuse(ReasonInvalidRequest)
	}
	name, after, ok := strings.Cut(rest, "'")
	if !ok {
		return EnrollRequest{}, refuse(ReasonInvalidRequest)
	}
	if !ValidAgentName(name) {
		return EnrollRequest{}, RefuseInvalidName(name)
	}
	req.Name, buf = name, after

	if strings.HasPrefix(buf, versionToken) {
		v, ok := scanQuoted(buf, len(versionToken), versionWidth, "'")
		if !ok {
			return EnrollRequest{}, refuse(ReasonUnterminatedVersion)
		}
		if opt.ManagerVersion != "" && !opt.AllowHigherVersions && CompareVersions(opt.ManagerVersion, v, false) < 0 {
			return EnrollRequest{}, refuse(ReasonIncompatibleVersion)
		}
		req.Version, buf = v, buf[len(v)+5:]
	}
	if strings.HasPrefix(buf, groupToken) {
		g, ok := scanQuoted(buf, len(groupToken), groupWidth, "'")
		if !ok {
			return EnrollRequest{}, refuse(ReasonUnterminatedGroup)
		}
		if err := checkGroupSyntax(g); err != nil {
			return EnrollRequest{}, err
		}
		req.Groups, buf = dedupeGroups(g), buf[len(g)+5:]
	}
	if strings.HasPrefix(buf, ipToken) {
		ip, ok := scanQuoted(buf, len(ipToken), ipWidth, "' ")
		if !ok {
			return EnrollRequest{}, refuse(ReasonUnterminatedIP)
		}
		buf = buf[len(ip)+6:]
		if strings.HasPrefix(ip, srcIPKeyword) {
			req.IP = srcIPKeyword
		} else if norm, valid := NormalizeIP(ip); valid {
			req.IP = norm
		} else {
			return EnrollRequest{}, RefuseInvalidIP(ip)
		}
	}
	if strings.HasPrefix(buf, keyToken) {
		h, ok := scanQuoted(buf, len(keyToken), keyHashWidth, "'")
		if !ok {
			return EnrollRequest{}, refuse(ReasonUnterminatedKey)
		}
		req.KeyHash = h
	}
	return req, nil
}

// scanQuoted reads the value after a token the way sscanf(" X:'%W[^']") does
// and reports whether the closing quote is where the reference expects it.
func scanQuoted(buf string, tokLen, width int, stops string) (string, bool) {
	val := ""
	if tokLen < len(buf) && buf[tokLen] == '\'' {
		rest := buf[tokLen+1:]
		n := strings.IndexAny(rest, stops)
		if n < 0 {
			n = len(rest)
		}
		val = rest[:min(n, width)]
	}
	closing := tokLen + 1 + len(val)
	return val, closing < len(buf) && buf[closing] == '\''
}

// ReadEnrollRequest reads the request line from the agent, up to and without
// its LF, refusing more than MaxEnrollRequestSize bytes. Bytes after the LF
// are discarded: an agent sends one request per connection.
func ReadEnrollRequest(r io.Reader) ([]byte, error) {
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= MaxEnrollRequestSize {
				return nil, ErrRequestTooLong
			}
			grown := make([]byte, len(buf), min(2*cap(buf), MaxEnrollRequestSize))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		if i := bytes.IndexByte(buf[len(buf):len(buf)+n], '\n'); i >= 0 {
			return buf[:len(buf)+i], nil
		}
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
	}
}
