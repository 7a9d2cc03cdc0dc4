package agentproto

import (
	"bufio"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// client.keys layout (spec §3.1), one agent per line:
//
//	<id> SP <name> SP <ip> SP <key> LF
//	001 NewAgent any 340d563d8426711b2c53e150b3b12aee15588135a4171d5cb3d683f4b04eecc3
//
// A line starting with '#' or ' ' is a comment. An entry whose name field starts
// with '!' or '#' is a removed agent: it is kept in the file and its ID still
// counts when the next ID is chosen. The key is the rest of the line.
const (
	// MaxKeyField is the longest id, name, ip or key field (KEYSIZE - 1).
	MaxKeyField = 127
	// maxKeysLine bounds one client.keys line when reading a file.
	maxKeysLine = 4096
)

// KeyEntry is one client.keys line.
type KeyEntry struct {
	ID   string
	Name string // for a removed entry, starts with '!' or '#'
	IP   string // "any", an address or a network, as written
	Key  string // the raw key text
}

// Removed reports whether the entry marks a deleted agent.
func (e KeyEntry) Removed() bool {
	return e.Name != "" && (e.Name[0] == '!' || e.Name[0] == '#')
}

// ParseKeyLine parses one client.keys line (trailing CR and LF are ignored).
// Comments return ok == false with a nil error. Active entries are validated:
// a numeric ID, a non-empty name, a valid IP and a non-empty key, each at most
// MaxKeyField bytes. Removed entries are returned as found.
func ParseKeyLine(line string) (e KeyEntry, ok bool, err error) {
	line = strings.TrimRight(line, "\r\n")
	if line == "" || line[0] == '#' || line[0] == ' ' {
		return KeyEntry{}, false, nil
	}
	if strings.ContainsAny(line, "\r\n") {
		return KeyEntry{}, false, fmt.Errorf("%w: embedded line break", ErrInvalidKeyLine)
	}
	id, rest, found := strings.Cut(line, " ")
	if !found {
		return KeyEntry{}, false, fmt.Errorf("%w: no name field", ErrInvalidKeyLine)
	}
	e.ID = id
	if rest != "" && (rest[0] == '!' || rest[0] == '#') {
		e.Name, rest, _ = strings.Cut(rest, " ")
		e.IP, e.Key, _ = strings.Cut(rest, " ")
		return e, true, nil
	}
	var ipOK bool
	e.Name, rest, found = strings.Cut(rest, " ")
	if found {
		e.IP, e.Key, ipOK = strings.Cut(rest, " ")
	}
	switch {
	case !found || !ipOK:
		return KeyEntry{}, false, fmt.Errorf("%w: expected 4 fields", ErrInvalidKeyLine)
	case e.ID == "" || !allDigits(e.ID):
		return KeyEntry{}, false, fmt.Errorf("%w: id %q is not numeric", ErrInvalidKeyLine, e.ID)
	case e.Name == "" || e.Key == "":
		return KeyEntry{}, false, fmt.Errorf("%w: empty name or key", ErrInvalidKeyLine)
	case len(e.ID) > MaxKeyField || len(e.Name) > MaxKeyField || len(e.IP) > MaxKeyField || len(e.Key) > MaxKeyField:
		return KeyEntry{}, false, fmt.Errorf("%w: field longer than %d bytes", ErrInvalidKeyLine, MaxKeyField)
	}
	if _, err := ParseIPRange(e.IP); err != nil {
		return KeyEntry{}, false, fmt.Errorf("%w: %w", ErrInvalidKeyLine, err)
	}
	return e, true, nil
}

// String formats the entry as a client.keys line without the trailing LF.
func (e KeyEntry) String() string {
	parts := []string{e.ID, e.Name, e.IP, e.Key}
	for len(parts) > 2 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, " ")
}

// ReadKeys reads a whole client.keys file. It returns every entry, removed ones
// included, and the highest numeric ID seen (the base for the next ID).
func ReadKeys(r io.Reader) (entries []KeyEntry, maxID int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxKeysLine)
	for n := 1; sc.Scan(); n++ {
		e, ok, err := ParseKeyLine(sc.Text())
		if err != nil {
			return nil, 0, fmt.Errorf("client.keys line %d: %w", n, err)
		}
		if !ok {
			continue
		}
		if v, err := strconv.Atoi(e.ID); err == nil && v > maxID {
			maxID = v
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("client.keys: %w", err)
	}
	return entries, maxID, nil
}

// FormatAgentID prints an agent ID the way authd does: %03d (001, 999, 1000).
func FormatAgentID(n int) string { return fmt.Sprintf("%03d", n) }

// GenerateRawKey returns a new 64-hex-character agent key read from r
// (crypto/rand when r is nil), equivalent to authd's MD5-based keys.
func GenerateRawKey(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("agentproto: generate key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Key derivation (spec §3.2); every MD5 below is lowercase hex text:
//
//	A   = md5hex(name)        B = md5hex(id)
//	C15 = md5hex(A || B)[:15]
//	D   = md5hex(raw)
//	encryption key = D || C15          (47 ASCII bytes)
//	AES-256 key    = D                 (32 ASCII bytes: depends on raw only)
//	Blowfish key   = all 47 bytes
//	enrollment K:  = sha1hex(id || name || raw)

// EncryptionKey returns the 47-character key string derived from an entry.
func EncryptionKey(id, name, raw string) string {
	c := md5hex(md5hex(name) + md5hex(id))
	return md5hex(raw) + c[:15]
}

// KeyHash returns the SHA-1 hex an agent sends in the enrollment K: field.
func KeyHash(id, name, raw string) string {
	sum := sha1.Sum([]byte(id + name + raw))
	return hex.EncodeToString(sum[:])
}

// KeyHash returns the enrollment K: hash of the entry.
func (e KeyEntry) KeyHash() string { return KeyHash(e.ID, e.Name, e.Key) }

// Cipher returns the ready-to-use message key of the entry.
func (e KeyEntry) Cipher() (*Key, error) { return NewKey(e.ID, e.Name, e.Key) }

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
