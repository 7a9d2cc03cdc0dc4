package agentproto

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func FuzzParseEnrollRequest(f *testing.F) {
	for _, s := range []string{
		"OSSEC A:'myhost'\n",
		"OSSEC A:'myhost' V:'v4.14.7' IP:'192.168.0.10/24'\n",
		"OSSEC A:'myhost' V:'v4.14.7' G:'group_1,group_2'\n",
		"OSSEC PASS: TopSecret OSSEC A:'myhost' V:'v4.14.7' G:'default' IP:'src' K:'a0ac027c5bab176ad9a448b32dfa929679a28e1e'\n",
		"OSSEC A:'NewAgent' V:'v4.14.7' K:'a0ac027c5bab176ad9a448b32dfa929679a28e1e'\n",
		"OSSEC A:'h1' IP:'2001:db8::1/64'\n",
		"OSSEC A:'agent3' G:'Group1,Group2' IP:'192.0.0.3 K:'ABC123'",
		"OSSEC A:'h1' V:'' G:',,'\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, line []byte, withPassword bool) {
		opt := EnrollOptions{ManagerVersion: "v4.14.7"}
		if withPassword {
			opt.Password = "TopSecret"
		}
		req, err := ParseEnrollRequest(line, opt)
		if err != nil {
			if _, ok := err.(*EnrollError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if !ValidAgentName(req.Name) {
			t.Fatalf("accepted invalid name %q", req.Name)
		}
		if req.IP != "" && req.IP != "src" {
			norm, ok := NormalizeIP(req.IP)
			if !ok || norm != req.IP {
				t.Fatalf("IP %q not canonical (%q, %v)", req.IP, norm, ok)
			}
		}
		again, err := ParseEnrollRequest(req.Format(), opt)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", req.Format(), err)
		}
		if !reflect.DeepEqual(req, again) {
			t.Fatalf("round trip changed the request:\n%+v\n%+v", req, again)
		}
	})
}

func FuzzParseEnrollReply(f *testing.F) {
	f.Add([]byte("OSSEC K:'001 NewAgent any " + vecRaw + "'"))
	f.Add([]byte("OSSEC K:'1024 web-01 10.0.0.0/24 abc'"))
	f.Add([]byte("ERROR: Duplicate agent name: NewAgent. Unable to add agent"))
	f.Add([]byte("OSSEC K:'1'"))
	f.Fuzz(func(t *testing.T, reply []byte) {
		e, err := ParseEnrollReply(reply)
		if err != nil {
			return
		}
		again, err := ParseEnrollReply(FormatEnrollSuccess(e))
		if err != nil || again != e {
			t.Fatalf("round trip: %+v -> %+v (%v)", e, again, err)
		}
	})
}

// FuzzOpen feeds whole payloads (prefix, token, ciphertext) to the manager's
// decode path.
func FuzzOpen(f *testing.F) {
	for _, v := range decodeVectors {
		f.Add(unhex(f, v.wire))
	}
	f.Add([]byte("!abc!#AES:"))
	f.Add([]byte("#ping"))
	f.Add([]byte(":12345678"))
	k := vecKey(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		env, err := ParseEnvelope(payload)
		if err != nil || env.Ping {
			return
		}
		msg, m, err := k.Open(env.Body)
		if err != nil {
			return
		}
		checkReseal(t, k, msg, m)
	})
}

// FuzzOpenPlaintext fuzzes what lies under the cipher ('!' padding, zlib,
// inner header), which random ciphertexts almost never reach.
func FuzzOpenPlaintext(f *testing.F) {
	k := vecKey(f)
	for _, v := range decodeVectors[:7] {
		env, _ := ParseEnvelope(unhex(f, v.wire))
		m, ct, _ := splitToken(env.Body)
		pt, err := k.decrypt(ct, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pt)
	}
	f.Add(append([]byte("!"), deflate([]byte("short"))...))
	f.Add(append([]byte("!"), deflate(bytes.Repeat([]byte("a"), 70000))...))
	f.Fuzz(func(t *testing.T, plain []byte) {
		body, err := k.encrypt(nil, plain, MethodAES)
		if err != nil {
			t.Fatal(err)
		}
		msg, m, err := k.Open(body)
		if err != nil {
			return
		}
		checkReseal(t, k, msg, m)
	})
}

// checkReseal verifies that a decoded message encodes and decodes again unchanged.
func checkReseal(t *testing.T, k *Key, msg Message, m Method) {
	t.Helper()
	if len(msg.Payload) == 0 || msg.Local > 9999 {
		return // valid on the wire, but outside what a sender may produce
	}
	wire, err := k.Seal(nil, "7", m, msg)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	env, err := ParseEnvelope(wire)
	if err != nil || env.AgentID != "7" {
		t.Fatalf("envelope: %+v %v", env, err)
	}
	again, m2, err := k.Open(env.Body)
	if err != nil || m2 != m || !reflect.DeepEqual(msg, again) {
		t.Fatalf("reseal round trip: %+v -> %+v (%v)", msg, again, err)
	}
}

func FuzzParseKeepalive(f *testing.F) {
	f.Add([]byte(vecKeepalivePayload))
	f.Add([]byte(vecStartupPayload))
	f.Add([]byte(vecShutdownPayload))
	f.Add([]byte("#!-Microsoft Windows 10 Pro [Ver: 10.0.19045.3570] |DESKTOP-X |x86_64 - Wazuh v4.14.7 / 0123\nx merged.mg\n"))
	f.Add([]byte("#!-Linux |s |5.14 |#1 |aarch64 [SLES|sles: 15-SP7] - Wazuh v4.14.7\n"))
	f.Add([]byte("#!-req 1a ok"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := ParseAgentControl(payload)
		if err != nil || c.Kind != AgentKeepalive {
			return
		}
		k := c.Keepalive
		if k.MergedSum == "" {
			k.MergedSum = NoMergedSum
		}
		out := k.Format()
		again, err := ParseKeepalive(strings.TrimPrefix(string(out), ControlHeader))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if !reflect.DeepEqual(k, again) {
			t.Fatalf("round trip changed the keepalive:\n%+v\n%+v", k, again)
		}
	})
}

func FuzzParseKeyLine(f *testing.F) {
	f.Add("001 NewAgent any " + vecRaw)
	f.Add("002 web01 10.0.0.0/24 abc\r\n")
	f.Add("003 !removed any key")
	f.Add("004 #")
	f.Add("# comment")
	f.Add("005 v6 2001:db8::/32 k")
	f.Fuzz(func(t *testing.T, line string) {
		e, ok, err := ParseKeyLine(line)
		if err != nil || !ok {
			return
		}
		again, ok, err := ParseKeyLine(e.String())
		if err != nil || !ok || again != e {
			t.Fatalf("round trip of %q: %+v -> %+v (%v)", line, e, again, err)
		}
		if !e.Removed() {
			if _, err := e.Cipher(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
