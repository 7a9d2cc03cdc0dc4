package agentproto

import (
	"testing"
)

func BenchmarkDecodeAES(b *testing.B) {
	k := vecKey(b)
	wire := unhex(b, vecKeepaliveWire)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		env, err := ParseEnvelope(wire)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := k.Open(env.Body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeAES(b *testing.B) {
	k := vecKey(b)
	msg := Message{Random: 12345, Global: 0, Local: 3, Payload: []byte(vecKeepalivePayload)}
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(msg.Payload)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = k.Seal(buf[:0], "001", MethodAES, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseKeepalive(b *testing.B) {
	payload := []byte(vecKeepalivePayload)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := ParseAgentControl(payload)
		if err != nil || c.Kind != AgentKeepalive {
			b.Fatal(err)
		}
	}
}
