package meshcentral

import (
	"testing"
	"time"
)

// FuzzParse feeds any message to every parser and maps what they accept:
// nothing may panic, whatever the server sends.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"action":"nodes","responseid":"r5","nodes":{"mesh//wVlJ":[{"type":"node","mtype":2,"_id":"node//MSjQ","name":"vm","rname":"vm","ip":"127.0.0.1","osdesc":"Debian GNU/Linux 12 (bookworm)","conn":1,"pwr":1,"agct":1796632553630}]}}`,
		`{"action":"nodes","nodes":{"mesh//x":[{"_id":"node//y","conn":1e300}]}}`,
		`{"action":"meshes","meshes":[{"type":"mesh","_id":"mesh//wVlJ","name":"coverage-g1","mtype":2}]}`,
		`{"action":"lastconnect","nodeid":"node//MSjQ","time":1796632553632,"addr":"127.0.0.1:51805"}`,
		`{"action":"lastconnect","nodeid":"node//nope","noinfo":true,"result":"Invalid device id"}`,
		`{"action":"getnetworkinfo","nodeid":"node//MSjQ","updateTime":1796632559762,"netif2":{"lo":[{"mac":"00:00:00:00:00:00","address":"127.0.0.1","family":"IPv4"}],"eth0":[{"mac":"02:FC:00:00:00:01","address":"fe80::fc:ff:fe00:1%4","family":"IPv6"}]}}`,
		`{"action":"getnetworkinfo","nodeid":"node//x","netif":null,"netif2":null}`,
		`{"action":"close","cause":"noauth","msg":"noauth-2d"}`,
		`{"action":"close","cause":"banned","msg":"banned-1"}`,
		`[]`, `null`, `{"nodes":{"m":null}}`, `{"time":-1e20}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := parseEnvelope(b)
		if err == nil && env.Action == "close" {
			if closeError(env) == nil {
				t.Fatal("a close message without an error")
			}
		}
		now := time.Unix(0, 0)
		last, _ := parseLastConnect(b)
		netinfo, _ := parseNetInfo(b)
		meshes, _ := parseMeshes(b)
		_ = meshes
		if nodes, err := parseNodes(b); err == nil {
			for mesh, ns := range nodes {
				for _, n := range ns {
					r := mapDevice("s", device{node: n, meshID: mesh, group: mesh, last: last, net: netinfo}, now, "q")
					if r.ID == "" || (r.State != StateOnline && r.State != StateOffline) || r.Healthy != (r.State == StateOnline) {
						t.Fatalf("bad record %+v", r)
					}
				}
			}
		}
		if last != nil || netinfo != nil {
			mapDevice("s", device{node: apiNode{ID: "node//z"}, last: last, net: netinfo}, now, "q")
		}
	})
}
