package agentsim

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/agentproto"
)

const key1 = "029bfc9396b35d01bd725343233bbfb71c61f5b77f1bb86ec9bd38ea835b758c"

func TestParseFleetYAML(t *testing.T) {
	src := `keys: sim.keys
defaults:
  version: 3.13.2
  keepalive: 10s
agents:
  - name: web-{n:02}
    count: 3
    version: 4.14.7
    os: ubuntu-22.04
    groups: [web, db]
    labels: {env: prod, "!token": abc, team: web}
    managers: [10.0.0.2, "10.0.0.3:1514"]
  - name: legacy-db
    id: "9"
    key: ` + key1 + `
    os:
      name: CentOS Linux
      id: CentOS
      version: "7.9"
      kernel: 3.10.0
    behavior: silent after 30s
    source: 127.0.0.2
  - {name: "lab-{n}", count: 2, start: 8, id: "1{n:02}", os: {base: debian-12, arch: aarch64}, behaviour: flapping 1m/30s}
`
	f, err := ParseFleet("fleet.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ubuntu := osPresets["ubuntu-22.04"]
	arm := osPresets["debian-12"]
	arm.Arch = "aarch64"
	web := FleetAgent{Line: 6, Version: "v4.14.7", OS: &ubuntu, Groups: []string{"web", "db"},
		Labels:   []Label{{Key: "env", Value: "prod"}, {Key: "token", Value: "abc", Hidden: true}, {Key: "team", Value: "web"}},
		Managers: []string{"10.0.0.2", "10.0.0.3:1514"}, Keepalive: 10 * time.Second}
	w1, w2, w3 := web, web, web
	w1.Name, w2.Name, w3.Name = "web-01", "web-02", "web-03"
	want := &Fleet{File: "fleet.yaml", Keys: "sim.keys", Agents: []FleetAgent{w1, w2, w3,
		{Line: 13, Name: "legacy-db", ID: "009", Key: key1, Version: "v3.13.2", Keepalive: 10 * time.Second,
			OS:        &OS{Sysname: "Linux", Kernel: "3.10.0", Arch: "x86_64", Name: "CentOS Linux", ID: "centos", Version: "7.9"},
			Behaviour: Behaviour{Kind: Silent, After: 30 * time.Second}, Source: "127.0.0.2"},
		{Line: 23, Name: "lab-8", ID: "108", Version: "v3.13.2", OS: &arm, Keepalive: 10 * time.Second,
			Behaviour: Behaviour{Kind: Flapping, Up: time.Minute, Down: 30 * time.Second}},
		{Line: 23, Name: "lab-9", ID: "109", Version: "v3.13.2", OS: &arm, Keepalive: 10 * time.Second,
			Behaviour: Behaviour{Kind: Flapping, Up: time.Minute, Down: 30 * time.Second}},
	}}
	if d := cmp.Diff(want, f); d != "" {
		t.Errorf("fleet (-want +got):\n%s", d)
	}
}

func TestParseFleetCSV(t *testing.T) {
	src := `# a mixed fleet
name,count,version,os,os_arch,groups,labels,keepalive,behaviour,managers
web-{n:03},2,4.14.7,ubuntu-24.04,,"web,db",env=prod;team=web,5s,active,10.0.0.2;10.0.0.3:1515
old-01,,v3.13.2,centos-7,i686,,,,never connects,
`
	f, err := ParseFleet("fleet.csv", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ub := osPresets["ubuntu-24.04"]
	c7 := osPresets["centos-7"]
	c7.Arch = "i686"
	web := FleetAgent{Line: 3, Version: "v4.14.7", OS: &ub, Groups: []string{"web", "db"},
		Labels: []Label{{Key: "env", Value: "prod"}, {Key: "team", Value: "web"}}, Keepalive: 5 * time.Second,
		Managers: []string{"10.0.0.2", "10.0.0.3:1515"}}
	w1, w2 := web, web
	w1.Name, w2.Name = "web-001", "web-002"
	want := []FleetAgent{w1, w2, {Line: 4, Name: "old-01", Version: "v3.13.2", OS: &c7,
		Behaviour: Behaviour{Kind: NeverConnect}}}
	if d := cmp.Diff(want, f.Agents); d != "" {
		t.Errorf("agents (-want +got):\n%s", d)
	}
}

// TestParseFleetErrors: every mistake is an error naming the file, the line
// and the field.
func TestParseFleetErrors(t *testing.T) {
	for _, c := range []struct {
		file, src, want string
	}{
		{"f.yaml", "agents:\n  - name: a1\n    colour: red\n", "f.yaml:3: unknown key \"colour\""},
		{"f.yaml", "agent:\n  - name: a1\n", "f.yaml:1: unknown key \"agent\""},
		{"f.yaml", "agents:\n  - name: a1\n    keepalive: 3x\n", "f.yaml:3: keepalive: \"3x\" is not a positive duration"},
		{"f.yaml", "agents:\n  - name: a1\n    keepalive: -1s\n", "f.yaml:3: keepalive:"},
		{"f.yaml", "agents:\n  - name: a1\n    behaviour: silent after soon\n", "f.yaml:3: behaviour: \"silent after soon\": \"soon\" is not a duration"},
		{"f.yaml", "agents:\n  - name: a1\n  - name: b1\n  - name: a1\n", "f.yaml:4: duplicate agent name \"a1\" (also on line 2)"},
		{"f.yaml", "agents:\n  - {name: \"w-{n}\", count: 3}\n  - name: w-2\n", "f.yaml:3: duplicate agent name \"w-2\" (also on line 2)"},
		{"f.yaml", "agents:\n  - {name: a1, id: 5}\n  - {name: a2, id: \"005\"}\n", "f.yaml:3: duplicate agent id 005"},
		{"f.yaml", "agents:\n  - name: w\n    count: 3\n", "f.yaml:2: name: a block of 3 agents needs {n}"},
		{"f.yaml", "agents:\n  - {name: \"w{n}\", count: 0}\n", "f.yaml:2: count: \"0\" is not a whole number"},
		{"f.yaml", "agents:\n  - {name: \"w{n}\", count: 2, key: " + key1 + ", id: \"{n}\"}\n", "f.yaml:2: key: a block of 2 agents cannot share one key"},
		{"f.yaml", "agents:\n  - {name: a1, key: " + key1 + "}\n", "f.yaml:2: key: a key needs the agent's id"},
		{"f.yaml", "agents:\n  - {name: a1, id: \"000\"}\n", "f.yaml:2: id: \"000\" is not an agent id"},
		{"f.yaml", "agents:\n  - {name: a1, id: x1}\n", "f.yaml:2: id: \"x1\" is not an agent id"},
		{"f.yaml", "agents:\n  - {name: a1, version: 4.14}\n", "f.yaml:2: version: \"4.14\" is not a Wazuh version"},
		{"f.yaml", "agents:\n  - {name: a1, os: beos-5}\n", "f.yaml:2: os.base: unknown OS \"beos-5\""},
		{"f.yaml", "agents:\n  - name: a1\n    os: {name: X}\n", "needs at least name, id and version"},
		{"f.yaml", "agents:\n  - name: a1\n    os: {colour: X}\n", "f.yaml:3: os: unknown key \"colour\""},
		{"f.yaml", "agents:\n  - {name: a1, os: {base: debian-12, name: \"a|b\"}}\n", "os.name: \"a|b\" cannot be sent"},
		{"f.yaml", "agents:\n  - {name: a1, groups: [web, \"bad/group\"]}\n", "f.yaml:2: groups: \"bad/group\" is not a group name"},
		{"f.yaml", "agents:\n  - {name: a1, source: 10.0.0.300}\n", "f.yaml:2: source: \"10.0.0.300\" is not an IP address"},
		{"f.yaml", "agents:\n  - {name: a1, managers: [\"h:0\"]}\n", "f.yaml:2: managers: \"h:0\" is not host or host:port"},
		{"f.yaml", "agents:\n  - {name: a1, managers: []}\n", "f.yaml:2: managers: the list is empty"},
		{"f.yaml", "agents:\n  - {name: a1, labels: [a, b]}\n", "f.yaml:2: labels: want a mapping"},
		{"f.yaml", "agents:\n  - {name: a1, labels: {\"a\\nb\": c}}\n", "labels: \"a\\nb\" is not a label"},
		{"f.yaml", "agents:\n  - {name: \"bad name\"}\n", "f.yaml:2: name: \"bad name\" is not an agent name"},
		{"f.yaml", "agents:\n  - {name: a1, version: [4.14.7]}\n", "f.yaml:2: version: a single value is expected"},
		{"f.yaml", "agents:\n  - name: a1\n    name: a2\n", "f.yaml:3: name given twice (also on line 2)"},
		{"f.yaml", "agents:\n  - {name: a1, behaviour: x, behavior: y}\n", "behaviour given twice"},
		{"f.yaml", "defaults: {name: x}\nagents:\n  - {name: a1}\n", "f.yaml:1: defaults: name is per agent"},
		{"f.yaml", "agents: []\n", "f.yaml: no agents"},
		{"f.yaml", "", "f.yaml: empty file"},
		{"f.yaml", "agents:\n  - name: [\n", "f.yaml: "},
		{"f.yaml", "agents:\n  - {name: \"w{n}\", count: 2}\n  - {name: \"v{n}\", count: 99999}\n", "f.yaml:3: more than 100000 agents"},
		{"f.csv", "name,colour\na1,red\n", "f.csv:1: unknown column \"colour\""},
		{"f.csv", "version\n4.14.7\n", "f.csv:1: the header has no name column"},
		{"f.csv", "name,keepalive\na1,10s\nb1,often\n", "f.csv:3: keepalive: \"often\" is not a positive duration"},
		{"f.csv", "name,labels\na1,env\n", "f.csv:2: labels: \"env\" is not key=value"},
		{"f.csv", "name,labels\na1,env=a;env=b\n", "f.csv:2: labels: \"env\" given twice"},
		{"f.csv", "name,version\na1\n", "f.csv:2: wrong number of fields"},
		{"f.csv", "name,name\na1,a2\n", "f.csv:1: column \"name\" given twice"},
		{"f.csv", "name\na1\n\n# comment\na1\n", "f.csv:5: duplicate agent name \"a1\" (also on line 2)"},
		{"f.csv", "", "f.csv: empty file"},
	} {
		_, err := ParseFleet(c.file, []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q:\n got  %v\n want %q", c.file, c.src, err, c.want)
		}
	}
}

func TestExpandN(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{{"web-{n}", 7, "web-7"}, {"web-{n:03}", 7, "web-007"}, {"web-{n:3}", 7, "web-007"}, {"{n:02}-{n}", 123, "123-123"},
		{"web-{x}", 1, "web-{x}"}} {
		if got := expandN(c.in, c.n); got != c.want {
			t.Errorf("expandN(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

// TestResolveFleetKeys: keys come from the client.keys by name and id, never
// by position; a mismatch is an error naming the fleet line.
func TestResolveFleetKeys(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "client.keys")
	lines := "001 web-01 any " + key1 + "\n002 web-02 10.0.0.2 " + strings.Repeat("ab", 32) + "\n" +
		"003 !gone any " + strings.Repeat("cd", 32) + "\n"
	if err := os.WriteFile(keys, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	resolve := func(src string) ([]fleetMember, error) {
		f, err := ParseFleet(filepath.Join(dir, "fleet.yaml"), []byte("keys: client.keys\n"+src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		f.Keys = keys
		m, _, err := resolveFleet(Config{Fleet: f, Manager: "127.0.0.1", Port: 1514, Version: "v4.14.7",
			NotifyTime: 7 * time.Second, Groups: []string{"g"}, SourceIPs: []string{"127.0.0.3"}})
		return m, err
	}
	// Listed in the other order than the file: matched by name.
	m, err := resolve("agents:\n  - {name: web-02}\n  - {name: web-01, id: \"1\"}\n" +
		"  - {name: new-01, source: 127.0.0.2, keepalive: 1s, groups: [h], managers: [m1, \"m2:1600\"], version: 3.13.2}\n")
	if err != nil {
		t.Fatal(err)
	}
	// Inherited from the flags, or the agent's own.
	if a, b := m[0], m[2]; a.local.String() != "127.0.0.3:0" || a.Keepalive != 7*time.Second || a.Groups[0] != "g" ||
		b.local.String() != "127.0.0.2:0" || b.Keepalive != time.Second || b.Groups[0] != "h" || b.Version != "v3.13.2" ||
		!slices.Equal(b.managers, []string{"m1:1514", "m2:1600"}) || *a.OS != defaultOS {
		t.Errorf("inherited settings: %+v / %+v", a, b)
	}
	if m[0].entry.ID != "002" || m[0].entry.IP != "10.0.0.2" || m[1].entry.Key != key1 || m[2].hasKey ||
		m[0].managers[0] != "127.0.0.1:1514" || m[0].Version != "v4.14.7" {
		t.Errorf("resolved %+v", m)
	}
	for _, c := range []struct{ src, want string }{
		{"agents:\n  - {name: web-01, id: \"2\"}\n", "fleet.yaml:3: agent web-01: " + keys + " has this name with id 001, not 002"},
		{"agents:\n  - {name: other, id: \"1\"}\n", "fleet.yaml:3: agent other: " + keys + " has id 001 for agent \"web-01\""},
		{"agents:\n  - {name: web-09, id: \"9\"}\n", "fleet.yaml:3: agent web-09: id 009 has no key"},
		{"agents:\n  - name: x1\n  - {name: web-03, id: \"1\", key: " + key1 + "}\n", "fleet.yaml:4: agent web-03: " + keys + " has id 001 as \"web-01\""},
		{"agents:\n  - {name: web-01, id: \"1\", key: " + strings.Repeat("ef", 32) + "}\n", "has id 001 with another key"},
	} {
		if _, err := resolve(c.src); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got  %v\n want %q", c.src, err, c.want)
		}
	}
}

func TestLoadFleetKeysRelative(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fleet.yml")
	if err := os.WriteFile(p, []byte("keys: sim.keys\nagents:\n  - name: a1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFleet(p)
	if err != nil || f.Keys != filepath.Join(dir, "sim.keys") {
		t.Errorf("%+v %v", f, err)
	}
	if _, err := LoadFleet(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing fleet file loaded")
	}
}

// FuzzParseFleet: any input gives a fleet or an error, never a panic, and
// every agent of a parsed fleet is usable as parsed.
func FuzzParseFleet(f *testing.F) {
	f.Add(true, []byte("keys: k\ndefaults: {version: 3.13.2}\nagents:\n  - {name: \"w{n:02}\", count: 3, os: {base: debian-12, arch: arm64}, labels: {a: b}, groups: [g], managers: [h, \"h:1\"], behaviour: flapping 1s/2s}\n"))
	f.Add(true, []byte("agents:\n  - {name: a1, id: \"7\", key: "+key1+", behaviour: silent after 3s, source: ::1}\n"))
	f.Add(false, []byte("name,count,id,os,os_name,labels,groups,managers,keepalive,behaviour\nw{n},2,{n},centos-7,X,a=b;c=d,\"a,b\",h;h:2,3s,never connects\n"))
	f.Add(false, []byte("name\n\"a\"\"1\"\n"))
	f.Fuzz(func(t *testing.T, yamlForm bool, data []byte) {
		name := "f.csv"
		if yamlForm {
			name = "f.yaml"
		}
		fl, err := ParseFleet(name, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name) {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, a := range fl.Agents {
			if !agentproto.ValidAgentName(a.Name) || (a.Key != "" && a.ID == "") {
				t.Fatalf("agent %+v", a)
			}
			if a.OS != nil {
				_ = a.OS.Uname(a.Name)
			}
			if _, err := ParseBehaviour(a.Behaviour.String()); err != nil {
				t.Fatalf("behaviour %v does not read back: %v", a.Behaviour, err)
			}
		}
	})
}

// FuzzParseBehaviour: never a panic; a parsed behaviour reads back the same.
func FuzzParseBehaviour(f *testing.F) {
	for _, s := range []string{"active", "silent after 30s", "never connects", "flapping", "flapping 1m/2s", "flapping 1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBehaviour(s)
		if err != nil {
			return
		}
		if again, err := ParseBehaviour(b.String()); err != nil || again != b {
			t.Fatalf("%q -> %v -> %v %v", s, b, again, err)
		}
	})
}

// TestDocsFleetExamples parses the examples of docs/agents.md and of the
// command's help, so they stay valid.
func TestDocsFleetExamples(t *testing.T) {
	b, err := os.ReadFile("../../docs/agents.md")
	if err != nil {
		t.Skip(err)
	}
	doc := string(b)
	for _, lang := range []string{"yaml", "csv"} {
		_, rest, ok := strings.Cut(doc[strings.Index(doc, "### A mixed fleet"):], "```"+lang+"\n")
		if !ok {
			t.Fatalf("no %s example", lang)
		}
		block, _, _ := strings.Cut(rest, "```")
		f, err := ParseFleet("agents.md."+lang, []byte(block))
		if err != nil {
			t.Errorf("%s example: %v", lang, err)
		} else if len(f.Agents) < 3 {
			t.Errorf("%s example: %d agents", lang, len(f.Agents))
		}
	}
	b, err = os.ReadFile("../../cmd/muster/agentsim.go")
	if err != nil {
		t.Skip(err)
	}
	_, rest, _ := strings.Cut(string(b), "  keys: sim.keys\n")
	block, _, _ := strings.Cut(rest, "\nExamples:")
	if _, err := ParseFleet("help.yaml", []byte(block)); err != nil {
		t.Errorf("--help example: %v", err)
	}
}
