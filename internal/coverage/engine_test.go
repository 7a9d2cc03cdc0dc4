package coverage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The engine's own tests use an in-memory source kind: the connectors are
// tested against the real tools in their packages and in the e2e test.
var (
	memMu   sync.Mutex
	memData = map[string][]Record{} // by config key "set"
	memErr  = map[string]error{}
)

func init() {
	Register("memory", func(n *yaml.Node, env Env) (Source, error) {
		var c struct {
			Conn `yaml:",inline"`
			Set  string `yaml:"set"`
		}
		if err := DecodeStrict(n, &c); err != nil {
			return nil, err
		}
		return memSource(c.Set), nil
	})
}

type memSource string

func (m memSource) Fetch(ctx context.Context, p Progress) ([]Record, error) {
	memMu.Lock()
	defer memMu.Unlock()
	if err := memErr[string(m)]; err != nil {
		return nil, err
	}
	recs := slices.Clone(memData[string(m)])
	p(len(recs), len(recs))
	return recs, nil
}

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func rec(id, host string, healthy bool, seen time.Duration, opts ...func(*Record)) Record {
	r := Record{ID: id, Hostname: host, Healthy: healthy, State: map[bool]string{true: "online", false: "offline"}[healthy], ReadAt: t0, Request: "test"}
	if seen >= 0 {
		r.LastSeen = t0.Add(-seen)
	}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func serial(s string) func(*Record)  { return func(r *Record) { r.Serial = s } }
func macs(m ...string) func(*Record) { return func(r *Record) { r.MACs = m } }
func state(s string) func(*Record)   { return func(r *Record) { r.State = s } }

func plan(t testing.TB, prefix, doc string, sets map[string][]Record) *Plan {
	t.Helper()
	memMu.Lock()
	for k, v := range sets {
		memData[prefix+k] = v
	}
	memMu.Unlock()
	doc = strings.ReplaceAll(doc, "set: ", "set: "+prefix)
	p, err := Load([]byte(doc), Env{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const threeSources = `
window: 24h
sources:
  - {name: wazuh, kind: memory, set: wazuh}
  - {name: rmm, kind: memory, set: rmm}
  - {name: cmdb, kind: memory, set: cmdb}
require:
  - scope: [rmm, cmdb]
    must_have: [wazuh]
`

func byKind(r *Report) map[string][]string {
	out := map[string][]string{}
	for _, f := range r.Findings {
		out[f.Kind] = append(out[f.Kind], f.Device)
	}
	return out
}

func TestReconcileFindings(t *testing.T) {
	h := time.Hour
	p := plan(t, "findings-", threeSources, map[string][]Record{
		"wazuh": {
			rec("001", "web01", true, time.Minute),
			rec("002", "db01", false, 30*h, state("disconnected")),     // rmm sees db01 alive: silent failure
			rec("003", "ghost", true, time.Minute),                     // no other source: orphan
			rec("004", "app01", true, time.Minute),                     // joined with cmdb by MAC, names differ
			rec("005", "lab01", false, 40*24*h, state("disconnected")), // nobody saw it within 24h
			rec("006", "build01", true, time.Minute, serial("SN-B1")),  // one machine ...
			rec("007", "build01-old", false, 9*24*h, serial("sn-b1 ")), // ... enrolled twice
			rec("008", "kiosk", false, -1, state("never_connected")),   // never connected; rmm sees it
		},
		"rmm": {
			rec("n1", "WEB01.corp.example", true, 0),
			rec("n2", "db01", true, 0),
			rec("n3", "laptop7", true, 0), // no Wazuh agent: missing
			rec("n4", "lab01", false, 30*24*h),
			rec("n5", "", false, -1), // no identifier at all
			rec("n6", "kiosk", true, 0),
		},
		"cmdb": {
			rec("row 2", "application-01", true, -1, macs("00:1A:2B:3C:4D:5E")),
			rec("row 3", "build01", true, -1, serial("SN-B1")),
		},
	})
	memData["findings-wazuh"][3].MACs = []string{"00-1a-2b-3c-4d-5e"}
	r := p.Run(context.Background(), RunOptions{Now: func() time.Time { return t0 }})
	if r.ExitCode != ExitOverLimit {
		t.Errorf("exit code %d, want 1", r.ExitCode)
	}
	got := byKind(r)
	want := map[string][]string{
		KindMissingAgent:     {"host:laptop7"},
		KindSilentFailure:    {"host:db01", "host:kiosk"},
		KindOrphan:           {"host:ghost"},
		KindDuplicate:        {"serial:SN-B1"},
		KindStaleEverywhere:  {"host:lab01"},
		KindIdentityConflict: {"mac:00:1a:2b:3c:4d:5e", "serial:SN-B1"},
		KindUnidentified:     {""},
	}
	for _, k := range FindingKinds {
		if !slices.Equal(got[k], want[k]) {
			t.Errorf("%s: got %v, want %v", k, got[k], want[k])
		}
	}
	var silent *Finding
	for i := range r.Findings {
		if r.Findings[i].Kind == KindSilentFailure && r.Findings[i].Device == "host:db01" {
			silent = &r.Findings[i]
		}
	}
	if silent == nil || silent.SilentDetail() == nil {
		t.Fatal("no silent_failure detail for db01")
	}
	s := silent.SilentDetail()
	if s.AliveSource != "rmm" || s.AgentSource != "wazuh" || s.AgentState != "disconnected" || !s.AliveAt.Equal(t0) ||
		!s.AgentSeen.Equal(t0.Add(-30*h)) || s.GapSeconds != (30*h).Seconds() {
		t.Errorf("silent detail %+v", s)
	}
	if len(silent.Evidence) != 2 || silent.Evidence[0].ID != "n2" || silent.Evidence[1].ID != "002" {
		t.Errorf("silent evidence %+v", silent.Evidence)
	}
	// web01 joined by host name, domain stripped, case ignored.
	for _, d := range r.Devices {
		if d.ID == "host:web01" {
			if len(d.Records) != 2 || len(d.Joins) != 1 || d.Joins[0].By != ByHostname || d.Joins[0].Value != "web01" {
				t.Errorf("web01: %+v", d)
			}
		}
	}
	q := r.Requirements[0]
	// in scope: web01 db01 laptop7 lab01 kiosk app01 build01 = 7; covered: web01, app01, build01.
	if q.InScope != 7 || q.Covered != 3 {
		t.Errorf("requirement: in scope %d covered %d, want 7 and 3", q.InScope, q.Covered)
	}
	if r.Sources[1].Unidentified != 1 || r.Summary.Findings[KindUnidentified] != 1 {
		t.Errorf("unidentified not counted: %+v", r.Sources[1])
	}
}

func TestUnavailableSourceMakesNoGaps(t *testing.T) {
	p := plan(t, "down-", threeSources, map[string][]Record{
		"wazuh": {rec("001", "web01", true, time.Minute)},
		"rmm":   {rec("n1", "web01", true, 0), rec("n2", "laptop7", true, 0)},
		"cmdb":  {rec("row 2", "laptop8", true, -1)},
	})
	memMu.Lock()
	memErr["down-wazuh"] = errors.New("login refused")
	memMu.Unlock()
	r := p.Run(context.Background(), RunOptions{})
	if r.ExitCode != ExitIncomplete {
		t.Errorf("exit code %d, want 2", r.ExitCode)
	}
	if len(r.Findings) != 0 {
		t.Errorf("findings from partial data: %+v", r.Findings)
	}
	if r.Sources[0].Status != SourceUnavailable || r.Sources[0].Reason != "login refused" {
		t.Errorf("source status %+v", r.Sources[0])
	}
	if r.Requirements[0].Skipped == "" {
		t.Error("the requirement needing wazuh was not skipped")
	}
}

func TestSerialConflictIsNotMerged(t *testing.T) {
	p := plan(t, "conflict-", threeSources, map[string][]Record{
		"wazuh": {rec("001", "web01", true, time.Minute)},
		"rmm":   {rec("n1", "web01", true, 0, serial("AAA111"))},
		"cmdb":  {rec("row 2", "web01", true, -1, serial("BBB222"))},
	})
	r := p.Run(context.Background(), RunOptions{})
	if len(r.Devices) != 3 {
		t.Fatalf("%d devices, want 3 unmerged", len(r.Devices))
	}
	got := byKind(r)
	if len(got[KindIdentityConflict]) != 1 || len(got[KindMissingAgent]) != 0 || len(got[KindOrphan]) != 0 {
		t.Errorf("findings %v", got)
	}
	if r.Requirements[0].InScope != 0 {
		t.Errorf("conflicting devices counted in scope: %+v", r.Requirements[0])
	}
}

func TestThresholdsAndFilters(t *testing.T) {
	doc := threeSources + `    os: [windows]
max: {missing_agent: "50%", unidentified: "off"}
`
	p := plan(t, "limits-", doc, map[string][]Record{
		"wazuh": {rec("001", "web01", true, time.Minute)},
		"rmm": {rec("n1", "web01", true, 0, func(r *Record) { r.OS = "Windows 11" }),
			rec("n2", "laptop7", true, 0, func(r *Record) { r.OS = "Windows 10" }),
			rec("n3", "mac9", true, 0, func(r *Record) { r.OS = "macOS 15" })},
		"cmdb": {},
	})
	r := p.Run(context.Background(), RunOptions{})
	if q := r.Requirements[0]; q.InScope != 2 || q.Covered != 1 {
		t.Errorf("os filter: %+v", q)
	}
	// one missing of 3 devices: under 50%; orphans none.
	if r.ExitCode != ExitCovered {
		t.Errorf("exit %d breaches %+v", r.ExitCode, r.Breaches)
	}
	lim := DefaultThresholds()
	if err := lim.Set("missing_agent=0"); err != nil {
		t.Fatal(err)
	}
	r = p.Run(context.Background(), RunOptions{Limits: lim})
	if r.ExitCode != ExitOverLimit || len(r.Breaches) != 1 || r.Breaches[0].Kind != KindMissingAgent {
		t.Errorf("override: exit %d %+v", r.ExitCode, r.Breaches)
	}
	if err := lim.Set("nonsense=1"); err == nil {
		t.Error("an unknown kind was accepted")
	}
}

func TestConfigErrors(t *testing.T) {
	cases := map[string]string{
		"":                          "empty",
		"window: 24h\nsurces: []\n": `line 2: unknown key "surces"`,
		"sources:\n  - {name: a, kind: memory, set: x, colour: red}\n":                        `unknown key "colour"`,
		"sources:\n  - {name: a, kind: nope}\n":                                               `unknown source kind "nope"`,
		"sources:\n  - {kind: memory}\n":                                                      "has no name",
		"sources:\n  - {name: a, kind: memory}\n  - {name: a, kind: memory}\n":                "already used on line 2",
		"sources:\n  - {name: a, kind: memory}\nrequire:\n  - {scope: [a], must_have: [b]}\n": `"b" is not a configured source`,
		"window: soon\nsources:\n  - {name: a, kind: memory}\n":                               "not a duration",
		"sources:\n  - {name: a, kind: memory}\nmax: {missing: 3}\n":                          "unknown finding kind",
		"sources:\n  - {name: a, kind: memory}\nhistory: {}\n":                                "give path",
		"sources:\n  - {name: a, kind: memory}\nmatch: {hostname: maybe}\n":                   "not short, fqdn or off",
		"sources: [\n": "line",
	}
	for doc, want := range cases {
		_, err := Load([]byte(doc), Env{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", doc, err, want)
		}
	}
}

func TestNormalise(t *testing.T) {
	m, _ := newMatcher(MatchConfig{})
	for in, want := range map[string]string{
		"00:1A:2B:3C:4D:5E": "00:1a:2b:3c:4d:5e", "001a.2b3c.4d5e": "00:1a:2b:3c:4d:5e", "00-1a-2b-3c-4d-5e": "00:1a:2b:3c:4d:5e",
		"02:42:ac:11:00:02": "", // locally administered (Docker)
		"da:a1:19:00:00:01": "", // randomised Wi-Fi
		"01:00:5e:00:00:fb": "", // multicast
		"00:00:00:00:00:00": "", "ff:ff:ff:ff:ff:ff": "", "00:50:56:c0:00:08": "", "garbage": "", "00:1a:2b:3c:4d": "",
	} {
		if got := m.MAC(in); got != want {
			t.Errorf("MAC(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"To be filled by O.E.M.": "", "0000000": "", " ab 12 ": "AB12", "Default string": ""} {
		if got := m.Serial(in); got != want {
			t.Errorf("Serial(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"WEB01.corp.example.": "web01", "localhost": "", "10.0.0.1": "", "": ""} {
		if got := m.Hostname(in); got != want {
			t.Errorf("Hostname(%q) = %q, want %q", in, got, want)
		}
	}
	d, _ := newMatcher(MatchConfig{Domains: []string{"corp.example"}})
	if got := d.Hostname("web.eu.corp.example"); got != "web.eu" {
		t.Errorf("domains: %q", got)
	}
}

func TestSharedMACIsNotAJoin(t *testing.T) {
	var rmm []Record
	for i := range 4 {
		rmm = append(rmm, rec(fmt.Sprint("n", i), fmt.Sprint("pc", i), true, 0, macs("00:1c:42:00:00:09")))
	}
	p := plan(t, "shared-", threeSources, map[string][]Record{"wazuh": {}, "rmm": rmm, "cmdb": {}})
	r := p.Run(context.Background(), RunOptions{})
	if len(r.Devices) != 4 {
		t.Errorf("%d devices, want 4: a MAC on four host names joined them", len(r.Devices))
	}
	if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "00:1c:42:00:00:09") }) {
		t.Errorf("no note on the shared MAC: %v", r.Notes)
	}
}

// A device joined twice (by serial between two records, by host name with a
// third) lists its joins in the order they were made, the same every run.
func TestJoinsInAStableOrder(t *testing.T) {
	p := plan(t, "joinorder-", threeSources, map[string][]Record{
		"wazuh": {rec("001", "web01", true, time.Minute)},
		"rmm":   {rec("n1", "web01", true, 0, serial("AAA111"))},
		"cmdb":  {rec("row 2", "", true, -1, serial("AAA111"))},
	})
	for range 20 {
		r := p.Run(context.Background(), RunOptions{})
		if len(r.Devices) != 1 {
			t.Fatalf("%d devices, want 1", len(r.Devices))
		}
		j := r.Devices[0].Joins
		if len(j) != 2 || j[0].By != BySerial || j[1].By != ByHostname || !slices.Equal(j[0].Refs(), []string{"rmm/n1", "cmdb/row 2"}) {
			t.Fatalf("joins %+v, want the serial join, then the host name join", j)
		}
	}
}

// TestSilentFailureAfterTheSighting: an agent that stopped after the other
// source's last sighting is still a silent failure (that source saw the
// machine alive within the window), and the message says "after", with a
// negative gap, instead of calling it earlier.
func TestSilentFailureAfterTheSighting(t *testing.T) {
	h := time.Hour
	p := plan(t, "after-", threeSources, map[string][]Record{
		"wazuh": {rec("001", "web01", false, 10*time.Minute, state("disconnected"))},
		"rmm":   {rec("n1", "web01", true, 2*h)},
		"cmdb":  {},
	})
	r := p.Run(context.Background(), RunOptions{Now: func() time.Time { return t0 }})
	var f *Finding
	for i := range r.Findings {
		if r.Findings[i].Kind == KindSilentFailure {
			f = &r.Findings[i]
		}
	}
	if f == nil || f.SilentDetail() == nil {
		t.Fatalf("no silent_failure: %+v", r.Findings)
	}
	if f.SilentDetail().GapSeconds != -(110 * time.Minute).Seconds() {
		t.Errorf("gap %v", f.SilentDetail().GapSeconds)
	}
	want := "rmm saw this machine alive (online) at 2026-12-07T10:00:00Z, but its wazuh agent is disconnected: it was last seen at 2026-12-07T11:50:00Z, 1h50m after that sighting"
	if f.Text() != want {
		t.Errorf("message\n%s\nwant\n%s", f.Text(), want)
	}
}
