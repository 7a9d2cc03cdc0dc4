package wazuh

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/scan"
)

var readAt = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

const req = "GET https://h:55000/agents?limit=5000"

func agentJSON(t testing.TB, s string) *client.Agent {
	t.Helper()
	var a client.Agent
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		t.Fatal(err)
	}
	return &a
}

func TestMapAgent(t *testing.T) {
	cases := []struct {
		name  string
		agent string
		class scan.Class
		want  string // the record as JSON
	}{
		{"active, with os", `{"id":"001","name":"web-01","ip":"10.0.1.11","status":"active","version":"Wazuh v4.14.7",
			"os":{"name":"Ubuntu","version":"22.04.4 LTS","platform":"ubuntu"},"group":["web","db"],
			"dateAdd":"2025-10-11T09:54:16+00:00","lastKeepAlive":"2026-01-01T11:59:50+00:00"}`, scan.ClassActive,
			`{"source":"wz","id":"001","hostname":"web-01","ips":["10.0.1.11"],"os":"Ubuntu 22.04.4 LTS","groups":["web","db"],
			"state":"active","healthy":true,"last_seen":"2026-01-01T11:59:50Z",
			"fields":{"status":"active","name":"web-01","ip":"10.0.1.11","version":"Wazuh v4.14.7","dateAdd":"2025-10-11T09:54:16Z",
			"lastKeepAlive":"2026-01-01T11:59:50Z","group":"web,db","os.name":"Ubuntu","os.version":"22.04.4 LTS","os.platform":"ubuntu"},
			"read_at":"2026-01-01T12:00:00Z","request":"` + req + `"}`},
		{"reported active but silent: the scanner's stale, not healthy", `{"id":"002","name":"db","ip":"10.0.2.1","status":"active",
			"lastKeepAlive":"2026-01-01T11:00:00+00:00","dateAdd":"2025-01-01T00:00:00+00:00"}`, scan.ClassStale,
			`{"source":"wz","id":"002","hostname":"db","ips":["10.0.2.1"],"state":"stale","healthy":false,"last_seen":"2026-01-01T11:00:00Z",
			"fields":{"status":"active","name":"db","ip":"10.0.2.1","dateAdd":"2025-01-01T00:00:00Z","lastKeepAlive":"2026-01-01T11:00:00Z"},
			"read_at":"2026-01-01T12:00:00Z","request":"` + req + `"}`},
		{"disconnected", `{"id":"1005","name":"ws","ip":"192.168.1.5","status":"disconnected","os":{"platform":"darwin","version":"14.6.1"},
			"lastKeepAlive":"2025-12-01T00:00:00+00:00","disconnection_time":"2025-12-01T00:15:00+00:00","dateAdd":"2025-01-01T00:00:00+00:00"}`,
			scan.ClassDisconnected,
			`{"source":"wz","id":"1005","hostname":"ws","ips":["192.168.1.5"],"os":"darwin 14.6.1","state":"disconnected","healthy":false,
			"last_seen":"2025-12-01T00:00:00Z","fields":{"status":"disconnected","name":"ws","ip":"192.168.1.5","dateAdd":"2025-01-01T00:00:00Z",
			"lastKeepAlive":"2025-12-01T00:00:00Z","disconnection_time":"2025-12-01T00:15:00Z","os.version":"14.6.1","os.platform":"darwin"},
			"read_at":"2026-01-01T12:00:00Z","request":"` + req + `"}`},
		{"never connected: no address, never seen", `{"id":"035","name":"new","ip":"any","status":"never_connected","group":["web"],
			"dateAdd":"2025-12-31T00:00:00+00:00"}`, scan.ClassNeverConnected,
			`{"source":"wz","id":"035","hostname":"new","groups":["web"],"state":"never_connected","healthy":false,
			"fields":{"status":"never_connected","name":"new","ip":"any","dateAdd":"2025-12-31T00:00:00Z","group":"web"},
			"read_at":"2026-01-01T12:00:00Z","request":"` + req + `"}`},
		{"registered for a network: not a device address", `{"id":"039","name":"kiosk","ip":"10.0.6.0/24","status":"never_connected"}`,
			scan.ClassNeverConnected,
			`{"source":"wz","id":"039","hostname":"kiosk","state":"never_connected","healthy":false,
			"fields":{"status":"never_connected","name":"kiosk","ip":"10.0.6.0/24"},"read_at":"2026-01-01T12:00:00Z","request":"` + req + `"}`},
		{"a status the scanner does not know", `{"id":"050","name":"x","status":"frozen"}`, scan.ClassUnknown,
			`{"source":"wz","id":"050","hostname":"x","state":"unknown","healthy":false,"fields":{"status":"frozen","name":"x"},
			"read_at":"2026-01-01T12:00:00Z","request":"` + req + `"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := mapAgent("wz", agentJSON(t, tc.agent), scan.Verdict{Class: tc.class}, readAt, req)
			if !ok {
				t.Fatal("not mapped")
			}
			got, _ := json.Marshal(r)
			var g, w any
			json.Unmarshal(got, &g)
			if err := json.Unmarshal([]byte(tc.want), &w); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(w, g); d != "" {
				t.Errorf("record (-want +got):\n%s", d)
			}
		})
	}
}

func TestManagerAgentIsNoDevice(t *testing.T) {
	a := agentJSON(t, `{"id":"000","name":"wazuh-manager","ip":"127.0.0.1","status":"active","lastKeepAlive":"9999-12-31T23:59:59+00:00"}`)
	if r, ok := mapAgent("wz", a, scan.Verdict{Class: scan.ClassActive}, readAt, req); ok {
		t.Errorf("000 mapped to %+v", r)
	}
	if _, ok := mapAgent("wz", nil, scan.Verdict{}, readAt, req); ok {
		t.Error("nil agent mapped")
	}
}

// FuzzMapAgent: whatever agent JSON the client accepts maps without panic,
// keeps its id, and never invents an address or a last-seen time.
func FuzzMapAgent(f *testing.F) {
	f.Add(`{"id":"001","name":"a","ip":"10.0.0.1","status":"active","lastKeepAlive":"2026-01-01T00:00:00Z","os":{"name":"Ubuntu"}}`, "active")
	f.Add(`{"id":"000","lastKeepAlive":"9999-12-31T23:59:59+00:00"}`, "active")
	f.Add(`{"id":"7","ip":"any","group":["",""],"dateAdd":1700000000}`, "never_connected")
	f.Add(`{"id":"8","ip":"fe80::1%eth0","os":{"platform":"windows"}}`, "stale")
	f.Fuzz(func(t *testing.T, s, class string) {
		var a client.Agent
		if json.Unmarshal([]byte(s), &a) != nil {
			return
		}
		r, ok := mapAgent("wz", &a, scan.Verdict{Class: scan.Class(class)}, readAt, req)
		if !ok {
			if a.ID != ManagerID {
				t.Fatalf("agent %q not mapped", a.ID)
			}
			return
		}
		if r.ID != a.ID || r.State != class || r.Healthy != (class == "active") {
			t.Fatalf("record %+v from %+v", r, a)
		}
		if len(r.IPs) > 0 && r.IPs[0] != a.IP {
			t.Fatalf("IPs %v from ip %q", r.IPs, a.IP)
		}
		if !r.LastSeen.IsZero() && !r.LastSeen.Equal(a.LastKeepAlive.Time) {
			t.Fatalf("LastSeen %v from %v", r.LastSeen, a.LastKeepAlive)
		}
	})
}
