package agentproto

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
)

// Secure payload, outer layer (spec §4.2):
//
//	[ "!" digits "!" ]   agent ID, agent -> manager only, when the agent's key IP
//	                     is not a single IPv4 host (for example "any")
//	"#AES:" | ":"        crypto token
//	ciphertext           AES: multiple of 16; Blowfish: multiple of 8
//
// Plaintext under the cipher (spec §4.4): k bytes '!' (1..8) so that k+len(z)
// is a multiple of 8, then z, an RFC 1950 zlib stream. The receiver strips every
// leading '!' and ignores bytes after the end of the stream.
//
// Inside the zlib stream (spec §4.5):
//
//	offset 0   32  lowercase md5hex of bytes [32:]
//	offset 32   5  random, %05u (0..65535)
//	offset 37  10  global counter, %010u
//	offset 47   1  ':'
//	offset 48   4  local counter, %04u
//	offset 52   1  ':'
//	offset 53   …  payload
const (
	// MaxPayloadSize is the longest payload a sender accepts (OS_MAXSTR - OS_HEADER_SIZE).
	MaxPayloadSize = 65536 - 128
	// MaxInflatedSize bounds the decompressed inner text (zip-bomb guard, OS_MAXSTR).
	MaxInflatedSize = 65536
	// InnerHeaderSize is the checksum, random and counters before the payload (MSG_OVERHEAD).
	InnerHeaderSize = 53
	// PingPayload is the clear-text health probe a manager answers with PongReply.
	PingPayload = "#ping"
	// PongReply is the clear-text answer to PingPayload.
	PongReply = "#pong"
)

// Envelope is the clear-text part of a payload received by the manager.
type Envelope struct {
	AgentID string // digits of the "!ID!" prefix
	HasID   bool   // the prefix was present (AgentID may still be empty: "!!")
	Ping    bool   // a clear-text "#ping": answer PongReply, nothing else
	Body    []byte // crypto token and ciphertext, aliasing the payload
}

// ParseEnvelope splits the optional "!ID!" prefix off a payload (spec §4.8
// steps 2 and 3). Only a malformed prefix is an error here; an empty body is
// reported later by Key.Open, after the agent lookup, as the reference does.
func ParseEnvelope(payload []byte) (Envelope, error) {
	if len(payload) > 0 && payload[0] == '!' {
		i := 1
		for i < len(payload) && payload[i] >= '0' && payload[i] <= '9' {
			i++
		}
		if i >= len(payload) || payload[i] != '!' {
			return Envelope{}, ErrBadIDPrefix
		}
		return Envelope{AgentID: string(payload[1:i]), HasID: true, Body: payload[i+1:]}, nil
	}
	if bytes.HasPrefix(payload, []byte(PingPayload)) {
		return Envelope{Ping: true}, nil
	}
	return Envelope{Body: payload}, nil
}

// Message is the inner layer of a secure message.
type Message struct {
	Random  uint16 // random field, 0..65535
	Global  uint32 // global counter
	Local   uint32 // local counter, 1..9997 from a well-behaved sender
	Payload []byte
}

// NewMessage stamps payload with the sender's next counters and a random
// field read from rnd (crypto/rand when nil).
func NewMessage(payload []byte, c *Counters, rnd io.Reader) (Message, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [2]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return Message{}, fmt.Errorf("agentproto: random field: %w", err)
	}
	g, l := c.Next()
	return Message{Random: binary.BigEndian.Uint16(b[:]), Global: g, Local: l, Payload: payload}, nil
}

// Open decrypts, inflates and verifies a body (spec §4.8 step 7), checking in
// the reference's order: empty body, crypto token, block size, padding, '!'
// marker, inflate, size, checksum, ':' separators. It returns the message and
// the method used, which the manager must reuse when answering this agent.
// Counters are parsed but not judged: pass them to Counters.Check.
func (k *Key) Open(body []byte) (Message, Method, error) {
	if len(body) == 0 {
		return Message{}, 0, ErrEmptyPayload
	}
	m, ct, err := splitToken(body)
	if err != nil {
		return Message{}, 0, err
	}
	pt, err := k.decrypt(ct, m)
	if err != nil {
		return Message{}, m, err
	}
	z, err := stripMarker(pt)
	if err != nil {
		return Message{}, m, err
	}
	f := inflaters.Get().(*inflater)
	defer inflaters.Put(f)
	full, err := f.inflate(z)
	if err != nil {
		return Message{}, m, err
	}
	msg, err := parseInner(full) // copies the payload out of f
	return msg, m, err
}

// Seal encodes m with method (spec §4.7) and appends the payload to dst. A
// non-empty agentID adds the "!ID!" prefix, which only agents whose key IP is
// not a single host send; the manager never does. Compression is Go's zlib at
// level 9: valid for every receiver, though not byte-identical to C zlib.
func (k *Key) Seal(dst []byte, agentID string, method Method, m Message) ([]byte, error) {
	if len(m.Payload) < 1 || len(m.Payload) > MaxPayloadSize {
		return dst, ErrPayloadSize
	}
	if m.Local > 9999 {
		return dst, fmt.Errorf("%w: local counter %d has more than 4 digits", ErrBadFormat, m.Local)
	}
	if agentID != "" && !allDigits(agentID) {
		return dst, ErrBadIDPrefix
	}
	if method != MethodAES && method != MethodBlowfish {
		return dst, ErrUnknownMethod
	}
	return k.sealCompressed(dst, agentID, method, deflate(buildInner(m)))
}

// buildInner returns md5hex(inner) || inner, the text that gets compressed.
func buildInner(m Message) []byte {
	b := make([]byte, 32, InnerHeaderSize+len(m.Payload))
	b = appendPadded(b, uint64(m.Random), 5)
	b = appendPadded(b, uint64(m.Global), 10)
	b = append(b, ':')
	b = appendPadded(b, uint64(m.Local), 4)
	b = append(b, ':')
	b = append(b, m.Payload...)
	sum := md5.Sum(b[32:])
	hex.Encode(b[:32], sum[:])
	return b
}

// sealCompressed pads the zlib stream z with '!' and encrypts it.
func (k *Key) sealCompressed(dst []byte, agentID string, method Method, z []byte) ([]byte, error) {
	pad := 1 + (8-(len(z)+1)%8)%8
	p := make([]byte, pad, pad+len(z))
	for i := range p {
		p[i] = '!'
	}
	p = append(p, z...)
	if agentID != "" {
		dst = append(dst, '!')
		dst = append(dst, agentID...)
		dst = append(dst, '!')
	}
	return k.encrypt(dst, p, method)
}

// stripMarker checks the first plaintext byte and removes every leading '!'.
func stripMarker(pt []byte) ([]byte, error) {
	switch {
	case len(pt) == 0:
		return nil, ErrBadKey
	case pt[0] == ':':
		return nil, ErrLegacyFormat
	case pt[0] != '!':
		return nil, ErrBadKey
	}
	return bytes.TrimLeft(pt, "!"), nil
}

// parseInner verifies the checksum and the separators of an inflated message.
func parseInner(full []byte) (Message, error) {
	if len(full) < InnerHeaderSize {
		return Message{}, ErrShortMessage
	}
	var want [32]byte
	sum := md5.Sum(full[32:])
	hex.Encode(want[:], sum[:])
	if !bytes.Equal(want[:], full[:32]) {
		return Message{}, ErrChecksum
	}
	if full[47] != ':' || full[52] != ':' {
		return Message{}, ErrBadFormat
	}
	return Message{
		Random:  uint16(atoi32(full[32:37])),
		Global:  atoi32(full[37:47]),
		Local:   atoi32(full[48:52]),
		Payload: bytes.Clone(full[InnerHeaderSize:]),
	}, nil
}

// atoi32 reads a counter window like C's atoi (leading blanks, a sign, then
// digits up to the first non-digit), wrapping to 32 bits as the reference's
// unsigned cast does. Zero-padded decimal, the only form senders emit, reads
// as expected.
func atoi32(b []byte) uint32 {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var v uint32
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + uint32(b[i]-'0')
	}
	if neg {
		v = -v
	}
	return v
}

func appendPadded(b []byte, v uint64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendUint(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
