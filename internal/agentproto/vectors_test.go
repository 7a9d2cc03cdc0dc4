package agentproto

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex: %v", err)
	}
	return b
}

func vecKey(t testing.TB) *Key {
	t.Helper()
	k, err := NewKey(vecID, vecName, vecRaw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// §3.2 and §9.1: derived values.
func TestVectorDerivedKeys(t *testing.T) {
	if got := md5hex(vecName); got != "0926c443d6d6c9517079dca49672aa5c" {
		t.Errorf("md5hex(name) = %s", got)
	}
	if got := md5hex(vecID); got != "dc5c7986daef50c1e02ab09b442ee34f" {
		t.Errorf("md5hex(id) = %s", got)
	}
	if got := md5hex(md5hex(vecName) + md5hex(vecID)); got != "771634dc226f243bfce953ee837f3be1" {
		t.Errorf("md5hex(A||B) = %s", got)
	}
	ek := EncryptionKey(vecID, vecName, vecRaw)
	if ek != "7284d0e28c75cbc29e2432305dc2118d771634dc226f243" || len(ek) != 47 {
		t.Errorf("EncryptionKey = %q (%d)", ek, len(ek))
	}
	if got := hex.EncodeToString([]byte(ek[:32])); got != "3732383464306532386337356362633239653234333233303564633231313864" {
		t.Errorf("AES key bytes = %s", got)
	}
	if got := KeyHash(vecID, vecName, vecRaw); got != "a0ac027c5bab176ad9a448b32dfa929679a28e1e" {
		t.Errorf("KeyHash = %s", got)
	}
}

type wireVector struct {
	name    string
	wire    string
	id      string // expected !ID! prefix, "" for none
	method  Method
	random  uint16
	global  uint32
	local   uint32
	payload string
}

var decodeVectors = []wireVector{
	{"9.2 startup", vecStartupWire, "001", MethodAES, 12345, 0, 1, vecStartupPayload},
	{"9.2 startup single host", "234145533a" + vecStartupCT, "", MethodAES, 12345, 0, 1, vecStartupPayload},
	{"9.3 #2 started event", vecStartedWire, "001", MethodAES, 12345, 0, 2, vecStartedPayload},
	{"9.3 #3 keepalive", vecKeepaliveWire, "001", MethodAES, 12345, 0, 3, vecKeepalivePayload},
	{"9.3 #4 shutdown", vecShutdownWire, "001", MethodAES, 12345, 0, 4, vecShutdownPayload},
	{"9.4 #1 ack", vecAckWire, "", MethodAES, 12345, 0, 1, vecAckPayload},
	{"9.4 #2 up file", vecUpFileWire, "", MethodAES, 12345, 0, 2, vecUpFilePayload},
	{"9.5 blowfish single host", vecBlowfishWire, "", MethodBlowfish, 12345, 0, 1, vecStartupPayload},
	{"9.5 blowfish any", "2130303121" + vecBlowfishWire, "001", MethodBlowfish, 12345, 0, 1, vecStartupPayload},
	{"9.5 qa simulator zlib 6", vecQASimWire, "", MethodAES, 55555, 0, 1, vecStartupPayload},
	{"9.5 go zlib 9", vecGoZlibWire, "001", MethodAES, 12345, 0, 1, vecStartupPayload},
}

func TestVectorDecode(t *testing.T) {
	k := vecKey(t)
	for _, v := range decodeVectors {
		t.Run(v.name, func(t *testing.T) {
			env, err := ParseEnvelope(unhex(t, v.wire))
			if err != nil {
				t.Fatal(err)
			}
			if env.AgentID != v.id || env.HasID != (v.id != "") || env.Ping {
				t.Fatalf("envelope = %+v, want id %q", env, v.id)
			}
			msg, m, err := k.Open(env.Body)
			if err != nil {
				t.Fatal(err)
			}
			if m != v.method || msg.Random != v.random || msg.Global != v.global || msg.Local != v.local {
				t.Errorf("got %v %d %d:%d, want %v %d %d:%d", m, msg.Random, msg.Global, msg.Local,
					v.method, v.random, v.global, v.local)
			}
			if string(msg.Payload) != v.payload {
				t.Errorf("payload = %q\nwant      %q", msg.Payload, v.payload)
			}
		})
	}
}

// §9.2 layer by layer: ciphertext, padded plaintext, zlib, inner text, md5.
func TestVectorStartupLayers(t *testing.T) {
	k := vecKey(t)
	wire := unhex(t, vecStartupWire)
	if len(wire) != 106 || !bytes.HasPrefix(wire, []byte("!001!#AES:")) {
		t.Fatalf("wire prefix %q", wire[:10])
	}
	frame, _ := AppendFrame(nil, wire)
	if hex.EncodeToString(frame[:4]) != "6a000000" {
		t.Errorf("frame prefix = %x", frame[:4])
	}
	payload, rest, ok, err := SplitFrame(frame)
	if err != nil || !ok || len(rest) != 0 || !bytes.Equal(payload, wire) {
		t.Fatalf("SplitFrame = %v %v %d", ok, err, len(rest))
	}
	env, _ := ParseEnvelope(wire)
	m, ct, err := splitToken(env.Body)
	if err != nil || m != MethodAES || hex.EncodeToString(ct) != vecStartupCT {
		t.Fatalf("ciphertext mismatch (%v)", err)
	}
	pt, err := k.decrypt(ct, m)
	if err != nil {
		t.Fatal(err)
	}
	zlibBytes := unhex(t, vecStartupZlib)
	if want := append([]byte("!"), zlibBytes...); !bytes.Equal(pt, want) {
		t.Fatalf("padded plaintext = %x", pt)
	}
	var f inflater
	full, err := f.inflate(zlibBytes)
	if err != nil {
		t.Fatal(err)
	}
	inner := "123450000000000:0001:" + vecStartupPayload
	if string(full) != "b8faeb1b40b5fa19b20b46346b2db956"+inner {
		t.Errorf("inflated = %q", full)
	}
	built := buildInner(Message{Random: 12345, Global: 0, Local: 1, Payload: []byte(vecStartupPayload)})
	if !bytes.Equal(built, full) {
		t.Errorf("buildInner = %q", built)
	}
}

// §9.3 intermediate values: md5 and the number of '!' pad bytes.
func TestVectorPaddingCounts(t *testing.T) {
	k := vecKey(t)
	for _, c := range []struct {
		wire string
		md5  string
		bang int
		zlen int
	}{
		{vecStartedWire, "95a843e9454c547134be576f63f29c02", 6, 98},
		{vecKeepaliveWire, "408931e8a4b043ed64b3b312f2ad9d8c", 7, 265},
		{vecAckWire, "e3184fbc402ea41ff263010c753ed297", 7, 65},
	} {
		env, _ := ParseEnvelope(unhex(t, c.wire))
		m, ct, _ := splitToken(env.Body)
		pt, err := k.decrypt(ct, m)
		if err != nil {
			t.Fatal(err)
		}
		z := bytes.TrimLeft(pt, "!")
		if got := len(pt) - len(z); got != c.bang || len(z) != c.zlen {
			t.Errorf("%s: %d '!' and %d zlib bytes, want %d and %d", c.md5, got, len(z), c.bang, c.zlen)
		}
		var f inflater
		full, err := f.inflate(z)
		if err != nil || string(full[:32]) != c.md5 {
			t.Errorf("md5 = %q (%v), want %s", full[:32], err, c.md5)
		}
		sum := md5.Sum(full[32:])
		if hex.EncodeToString(sum[:]) != c.md5 {
			t.Errorf("recomputed md5 differs for %s", c.md5)
		}
	}
}

// With the random field, the counters and the zlib stream of the reference
// injected, encoding reproduces the reference's wire bytes exactly.
func TestVectorEncodeIdentical(t *testing.T) {
	k := vecKey(t)
	for _, c := range []struct {
		name   string
		id     string
		method Method
		zlib   string
		msg    Message
		want   string
	}{
		{"9.4 ack", "", MethodAES, vecAckZlib, Message{12345, 0, 1, []byte(vecAckPayload)}, vecAckWire},
		{"9.2 startup any", "001", MethodAES, vecStartupZlib, Message{12345, 0, 1, []byte(vecStartupPayload)}, vecStartupWire},
		{"9.2 startup host", "", MethodAES, vecStartupZlib, Message{12345, 0, 1, []byte(vecStartupPayload)}, "234145533a" + vecStartupCT},
		{"9.5 blowfish", "", MethodBlowfish, vecStartupZlib, Message{12345, 0, 1, []byte(vecStartupPayload)}, vecBlowfishWire},
	} {
		t.Run(c.name, func(t *testing.T) {
			z := unhex(t, c.zlib)
			var f inflater
			full, err := f.inflate(z)
			if err != nil || !bytes.Equal(full, buildInner(c.msg)) {
				t.Fatalf("inner text differs from the reference (%v)", err)
			}
			got, err := k.sealCompressed(nil, c.id, c.method, z)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != c.want {
				t.Errorf("wire = %x\nwant   %s", got, c.want)
			}
		})
	}
	frame, _ := AppendFrame(nil, unhex(t, vecAckWire))
	if hex.EncodeToString(frame[:4]) != "55000000" {
		t.Errorf("ack frame prefix = %x", frame[:4])
	}
}

// Go's own zlib output differs from C zlib's but round-trips, and the manager's
// sender counters start at 0000000000:0001 as in §9.4.
func TestVectorEncodeRoundTrip(t *testing.T) {
	k := vecKey(t)
	var c Counters
	for i, p := range []string{vecAckPayload, vecUpFilePayload} {
		g, l := c.Next()
		if g != 0 || l != uint32(i+1) {
			t.Fatalf("counter %d = %d:%d", i, g, l)
		}
		wire, err := k.Seal(nil, "", MethodAES, Message{Random: 12345, Global: g, Local: l, Payload: []byte(p)})
		if err != nil {
			t.Fatal(err)
		}
		env, _ := ParseEnvelope(wire)
		msg, m, err := k.Open(env.Body)
		if err != nil || m != MethodAES || string(msg.Payload) != p || msg.Local != l || msg.Random != 12345 {
			t.Fatalf("round trip %d: %+v %v %v", i, msg, m, err)
		}
		if i == 0 && len(wire) == len(unhex(t, vecAckWire)) && hex.EncodeToString(wire) == vecAckWire {
			t.Log("Go zlib happened to match C zlib for the ACK")
		}
	}
}
