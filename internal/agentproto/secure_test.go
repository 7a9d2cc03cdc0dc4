package agentproto

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// plainBody encrypts an arbitrary plaintext with AES, token included.
func plainBody(t *testing.T, k *Key, p []byte) []byte {
	t.Helper()
	out, err := k.encrypt(nil, p, MethodAES)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// zlibBody compresses text, adds the '!' padding and encrypts it.
func zlibBody(t *testing.T, k *Key, text []byte) []byte {
	t.Helper()
	out, err := k.sealCompressed(nil, "", MethodAES, deflate(text))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// innerWithSum returns md5hex(rest) || rest.
func innerWithSum(rest string) []byte {
	sum := md5.Sum([]byte(rest))
	return []byte(hex.EncodeToString(sum[:]) + rest)
}

// §9.7 and §4.8: every decoding failure has its own error, in the reference's order.
func TestOpenNegative(t *testing.T) {
	k := vecKey(t)
	other, _ := NewKey("002", "Other", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	zvec := unhex(t, vecStartupZlib)
	big := innerWithSum("123450000000000:0001:" + strings.Repeat("a", MaxInflatedSize))

	cases := []struct {
		name string
		body []byte
		key  *Key
		want error
		code int
	}{
		{"empty body", nil, k, ErrEmptyPayload, 0},
		{"no token", []byte("hello"), k, ErrBadCryptoToken, 1403},
		{"#AES without colon", []byte("#AESX0123456789abcdef"), k, ErrBadCryptoToken, 1403},
		{"token only", []byte("#AES:"), k, ErrCiphertextSize, 1404},
		{"aes partial block", append([]byte("#AES:"), make([]byte, 15)...), k, ErrCiphertextSize, 1404},
		{"blowfish partial block", append([]byte(":"), make([]byte, 7)...), k, ErrCiphertextSize, 1404},
		{"wrong key", unhex(t, "234145533a"+vecStartupCT), other, ErrBadPadding, 1404},
		{"wrong blowfish key", unhex(t, vecBlowfishWire), other, ErrBadKey, 1404},
		{"no ! marker", plainBody(t, k, []byte("Xabcdefg")), k, ErrBadKey, 1404},
		{"legacy : format", plainBody(t, k, []byte(":abcdefg")), k, ErrLegacyFormat, 1404},
		{"only padding", plainBody(t, k, []byte("!!!!!!!!")), k, ErrInflate, 2202},
		{"not zlib", plainBody(t, k, []byte("!garbage garbage")), k, ErrInflate, 2202},
		{"truncated zlib", plainBody(t, k, append([]byte("!"), zvec[:len(zvec)-6]...)), k, ErrInflate, 2202},
		{"bad adler32", plainBody(t, k, append([]byte("!"), append(zvec[:len(zvec)-1:len(zvec)-1], zvec[len(zvec)-1]^1)...)), k, ErrInflate, 2202},
		{"zip bomb", zlibBody(t, k, big), k, ErrInflatedTooLarge, 2202},
		{"short inner", zlibBody(t, k, []byte("0123456789")), k, ErrShortMessage, 1406},
		{"checksum", zlibBody(t, k, append(innerWithSum("123450000000000:0001:payload")[:60:60], 'X')), k, ErrChecksum, 1406},
		{"upper-case checksum", zlibBody(t, k, []byte(strings.ToUpper(string(innerWithSum("123450000000000:0001:#!-x")[:32]))+"123450000000000:0001:#!-x")), k, ErrChecksum, 1406},
		{"no : at 47", zlibBody(t, k, innerWithSum("1234500000000000:001:payload")), k, ErrBadFormat, 1403},
		{"no : at 52", zlibBody(t, k, innerWithSum("123450000000000:00001payload")), k, ErrBadFormat, 1403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := c.key.Open(c.body)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if got := WazuhCode(err); got != c.code {
				t.Errorf("WazuhCode = %d, want %d", got, c.code)
			}
		})
	}
}

func TestOpenTolerance(t *testing.T) {
	k := vecKey(t)
	z := unhex(t, vecStartupZlib)
	// Bytes after the zlib stream are ignored, and several '!' are stripped.
	p := append([]byte("!!!!"), z...)
	p = append(p, "trailing junk"...)
	msg, _, err := k.Open(plainBody(t, k, p))
	if err != nil || string(msg.Payload) != vecStartupPayload {
		t.Fatalf("trailing bytes: %q %v", msg.Payload, err)
	}
	// An inner text of exactly MaxInflatedSize bytes is accepted.
	exact := innerWithSum("123450000000000:0001:" + strings.Repeat("b", MaxInflatedSize-InnerHeaderSize))
	msg, _, err = k.Open(zlibBody(t, k, exact))
	if err != nil || len(msg.Payload) != MaxInflatedSize-InnerHeaderSize {
		t.Fatalf("65536-byte inner: %d %v", len(msg.Payload), err)
	}
	// Counters are read like atoi: unpadded senders such as the QA simulator still decode.
	msg, _, err = k.Open(zlibBody(t, k, innerWithSum("555551234567891:5555:#!-x")))
	if err != nil || msg.Global != 1234567891 || msg.Local != 5555 || msg.Random != 55555 {
		t.Fatalf("qa counters: %+v %v", msg, err)
	}
}

func TestParseEnvelope(t *testing.T) {
	for _, c := range []struct {
		in    string
		id    string
		hasID bool
		ping  bool
		body  string
		err   error
	}{
		{"!001!#AES:xx", "001", true, false, "#AES:xx", nil},
		{"!1024!:xx", "1024", true, false, ":xx", nil},
		{"!!#AES:", "", true, false, "#AES:", nil},
		{"!001!", "001", true, false, "", nil},
		{"#AES:xx", "", false, false, "#AES:xx", nil},
		{"#ping", "", false, true, "", nil},
		{"#pingpong", "", false, true, "", nil},
		{"!abc!#AES:", "", false, false, "", ErrBadIDPrefix},
		{"!001", "", false, false, "", ErrBadIDPrefix},
		{"!", "", false, false, "", ErrBadIDPrefix},
		{"", "", false, false, "", nil},
	} {
		env, err := ParseEnvelope([]byte(c.in))
		if !errors.Is(err, c.err) || env.AgentID != c.id || env.HasID != c.hasID || env.Ping != c.ping || string(env.Body) != c.body {
			t.Errorf("ParseEnvelope(%q) = %+v, %v", c.in, env, err)
		}
	}
}

func TestSealErrors(t *testing.T) {
	k := vecKey(t)
	ok := Message{Local: 1, Payload: []byte("x")}
	for _, c := range []struct {
		name   string
		id     string
		method Method
		msg    Message
		want   error
	}{
		{"empty payload", "", MethodAES, Message{Local: 1}, ErrPayloadSize},
		{"oversize payload", "", MethodAES, Message{Local: 1, Payload: make([]byte, MaxPayloadSize+1)}, ErrPayloadSize},
		{"local too wide", "", MethodAES, Message{Local: 10000, Payload: []byte("x")}, ErrBadFormat},
		{"bad id", "0a1", MethodAES, ok, ErrBadIDPrefix},
		{"bad method", "", Method(9), ok, ErrUnknownMethod},
	} {
		if _, err := k.Seal(nil, c.id, c.method, c.msg); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	big := Message{Global: 4294967295, Local: 9999, Random: 65535, Payload: bytes.Repeat([]byte{0}, MaxPayloadSize)}
	for _, m := range []Method{MethodAES, MethodBlowfish} {
		wire, err := k.Seal(nil, "12345678", m, big)
		if err != nil {
			t.Fatal(err)
		}
		env, err := ParseEnvelope(wire)
		if err != nil || env.AgentID != "12345678" {
			t.Fatalf("%v: envelope %+v %v", m, env, err)
		}
		got, gm, err := k.Open(env.Body)
		if err != nil || gm != m || got.Global != big.Global || got.Local != big.Local || got.Random != big.Random ||
			!bytes.Equal(got.Payload, big.Payload) {
			t.Fatalf("%v: max-size round trip failed: %v", m, err)
		}
	}
}

func TestNewMessage(t *testing.T) {
	var c Counters
	m, err := NewMessage([]byte("hi"), &c, bytes.NewReader([]byte{0x30, 0x39}))
	if err != nil || m.Random != 12345 || m.Global != 0 || m.Local != 1 || string(m.Payload) != "hi" {
		t.Fatalf("NewMessage = %+v, %v", m, err)
	}
	if _, err := NewMessage([]byte("hi"), &c, bytes.NewReader(nil)); err == nil {
		t.Fatal("NewMessage with an empty random source succeeded")
	}
	if _, err := NewMessage([]byte("hi"), &c, nil); err != nil {
		t.Fatal(err)
	}
}

func TestWazuhCodeOther(t *testing.T) {
	for err, want := range map[error]int{ErrDuplicateCounter: 1407, ErrOldCounter: 1404, ErrBadIDPrefix: 1403,
		ErrEmptyPayload: 0, nil: 0} {
		if got := WazuhCode(err); got != want {
			t.Errorf("WazuhCode(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestMethodAndErrorText(t *testing.T) {
	if MethodAES.String() != "aes" || MethodBlowfish.String() != "blowfish" || Method(7).String() != "Method(7)" {
		t.Error("Method.String")
	}
	if got := RefuseDuplicateIP("1.2.3.4").Error(); !strings.Contains(got, "ERROR: Duplicate IP: 1.2.3.4") {
		t.Errorf("EnrollError.Error = %q", got)
	}
	if atoi32([]byte(" -1")) != 4294967295 || atoi32([]byte("+12x3")) != 12 || atoi32([]byte("abc")) != 0 {
		t.Error("atoi32")
	}
}
