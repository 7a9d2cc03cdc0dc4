package agentproto

import (
	"bytes"
	"testing"
)

func TestRequestMessages(t *testing.T) {
	if got := string(FormatAgentRequest("1a", "agent", "getconfig client")); got != "#!-req 1a agent getconfig client" {
		t.Fatalf("request: %q", got)
	}
	if got := string(FormatRequestAck("ffffffff")); got != "#!-req ffffffff ack" {
		t.Fatalf("ack: %q", got)
	}
	if got := FormatCounter(0xdeadbeef); got != "deadbeef" {
		t.Fatalf("counter: %q", got)
	}
	// The agent reads the request through ParseManagerMessage, then splits it.
	m := ParseManagerMessage(FormatAgentRequest("1a", "logcollector", "getstate"))
	if m.Kind != ManagerRequest || m.Counter != "1a" {
		t.Fatalf("manager message: %+v", m)
	}
	call, err := ParseAgentRequest(m.Counter, m.Body)
	if err != nil || call != (AgentRequestCall{Counter: "1a", Target: "logcollector", Command: "getstate"}) {
		t.Fatalf("call: %+v %v", call, err)
	}
	// The manager reads the answer through ParseAgentControl.
	ctl, err := ParseAgentControl(FormatRequestReply("1a", []byte(`ok {"client":{}}`)))
	if err != nil || ctl.Kind != AgentRequest {
		t.Fatalf("control: %+v %v", ctl, err)
	}
	r, err := ParseRequestReply(ctl.Counter, ctl.Body)
	if err != nil || r.Ack || string(r.Data) != `ok {"client":{}}` {
		t.Fatalf("reply: %+v %v", r, err)
	}
	st, rest, ok := SplitReplyStatus(r.Data)
	if st != "ok" || rest != `{"client":{}}` || !ok {
		t.Fatalf("split: %q %q %v", st, rest, ok)
	}
	if _, _, ok := SplitReplyStatus([]byte("garbage")); ok {
		t.Fatal("an answer without a space was readable")
	}
	ack, err := ParseRequestReply("1a", []byte("ack"))
	if err != nil || !ack.Ack {
		t.Fatalf("ack reply: %+v %v", ack, err)
	}
}

func TestRequestBadInput(t *testing.T) {
	for _, c := range []string{"", "1A", "g", "123456789", "-1", "1 2"} {
		if ValidCounter(c) {
			t.Errorf("counter %q accepted", c)
		}
		if _, err := ParseRequestReply(c, []byte("ok {}")); err != ErrBadCounter {
			t.Errorf("reply with counter %q: %v", c, err)
		}
	}
	for _, body := range []string{"", "agent", " getconfig client"} {
		if _, err := ParseAgentRequest("1", []byte(body)); err != ErrNoTarget {
			t.Errorf("request body %q: %v", body, err)
		}
	}
	if _, err := ParseAgentRequest("x", []byte("agent getstate")); err != ErrBadCounter {
		t.Errorf("bad counter: %v", err)
	}
}

func FuzzParseRequestReply(f *testing.F) {
	f.Add([]byte("#!-req 1a ack"))
	f.Add([]byte(`#!-req ffffffff ok {"client":{"notify_time":20}}`))
	f.Add([]byte(`#!-req 0 {"error":0,"data":{}}`))
	f.Add([]byte("#!-req 1a err Could not get requested section"))
	f.Add([]byte("#!-req  ack"))
	f.Add([]byte("#!-req 123456789 ack"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ctl, err := ParseAgentControl(payload)
		if err != nil || ctl.Kind != AgentRequest {
			return
		}
		r, err := ParseRequestReply(ctl.Counter, ctl.Body)
		if err != nil {
			if ValidCounter(ctl.Counter) {
				t.Fatalf("valid counter %q refused: %v", ctl.Counter, err)
			}
			return
		}
		if !ValidCounter(r.Counter) {
			t.Fatalf("accepted counter %q", r.Counter)
		}
		// Re-encoding gives the same message back.
		var again []byte
		if r.Ack {
			again = FormatRequestAck(r.Counter)
		} else {
			again = FormatRequestReply(r.Counter, r.Data)
		}
		if !bytes.Equal(again, payload) {
			t.Fatalf("round trip: %q -> %q", payload, again)
		}
		if call, err := ParseAgentRequest(r.Counter, r.Data); err == nil {
			if got := FormatAgentRequest(call.Counter, call.Target, call.Command); !bytes.Equal(got, payload) {
				t.Fatalf("request round trip: %q -> %q", payload, got)
			}
		}
	})
}
