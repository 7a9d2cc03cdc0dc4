package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// coverageDir writes a config with two file sources and returns its path.
func coverageDir(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	now := time.Now().UTC()
	files := map[string]string{
		"cmdb.csv": "name,serial\nweb01,SN1\ndb01,SN2\nlaptop7,SN3\n",
		"agents.json": fmt.Sprintf(`[{"host":"web01.corp.example","state":"online","seen":%q},
 {"host":"DB01","state":"offline","seen":%q}]`, now.Format(time.RFC3339), now.Add(-48*time.Hour).Format(time.RFC3339)),
		"coverage.yaml": `window: 24h
sources:
  - {name: cmdb, kind: file, path: cmdb.csv, columns: {hostname: name, serial: serial}}
  - {name: agents, kind: file, path: agents.json, columns: {hostname: host, state: state, last_seen: seen}, healthy: [online]}
require:
  - {scope: [cmdb], must_have: [agents]}
history: {path: runs.db}
` + extra,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "coverage.yaml")
}

func TestCoverageCommand(t *testing.T) {
	ctx := context.Background()
	cfg := coverageDir(t, "")
	r := run(t, ctx, coverageCmd(), "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stdout, "MISSING_AGENT") || !strings.Contains(r.stdout, "laptop7") ||
		!strings.Contains(r.stderr, "missing_agent 1 > 0") {
		t.Fatalf("table run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, ctx, coverageCmd(), "--config", cfg, "-o", "json", "-q", "--max", "all=off")
	if r.code != 0 {
		t.Fatalf("json run with --max all=off: exit %d: %s", r.code, r.stderr)
	}
	var rep struct {
		Schema  int `json:"schema_version"`
		Sources []struct {
			Name, Kind, Status string
			Devices            int
		}
		Devices  []struct{ ID string }
		Findings []struct {
			Kind, Device string
			Sources      []string
			Evidence     []struct {
				Source   string
				RecordID string `json:"record_id"`
			}
		}
		Summary struct {
			Devices  int
			Findings map[string]int
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if rep.Schema != 1 || len(rep.Sources) != 2 || rep.Sources[0].Status != "ok" || rep.Summary.Devices != 3 ||
		rep.Summary.Findings["missing_agent"] != 1 || rep.Summary.Findings["stale_everywhere"] != 1 || len(rep.Findings) != 2 ||
		rep.Findings[0].Device != "serial:SN3" || rep.Findings[1].Device != "serial:SN2" ||
		rep.Findings[0].Evidence[0].RecordID != "row 4" {
		t.Errorf("json report: %+v", rep)
	}
	r = run(t, ctx, coverageCmd(), "--config", cfg, "-o", "csv", "-q")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[1], "missing_agent,") || !strings.HasPrefix(lines[3], "stale_everywhere,") {
		t.Errorf("csv: %q", r.stdout)
	}
	r = run(t, ctx, coverageCmd(), "--config", cfg, "-o", "prometheus", "-q")
	for _, want := range []string{`muster_coverage_ratio{must_have="agents",requirement="R1",scope="cmdb"} 0.3333333333333333`,
		`muster_coverage_source_up{kind="file",source="cmdb"} 1`, `muster_coverage_findings_total{kind="missing_agent"} 1`,
		`muster_coverage_open_gaps{kind="missing_agent"} 1`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("prometheus output lacks %s:\n%s", want, r.stdout)
		}
	}
	r = run(t, ctx, coverageCmd(), "--config", cfg, "-o", "html", "-q")
	if !strings.HasPrefix(strings.TrimSpace(r.stdout), "<!DOCTYPE html>") || !strings.Contains(r.stdout, "laptop7") {
		t.Errorf("html: %.300s", r.stdout)
	}
	r = run(t, ctx, coverageCmd(), "history", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "RUNS (5)") || !strings.Contains(r.stdout, "laptop7") {
		t.Errorf("history: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestCoverageCommandErrors(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("x\n"), 0o600)
	unreachable := coverageDir(t, "")
	doc := fmt.Sprintf(`sources:
  - {name: cmdb, kind: file, path: cmdb.csv, columns: {hostname: name, serial: serial}}
  - {name: wazuh, kind: wazuh, url: "https://%s", user: u, password_file: %q, timeout: 2s}
require:
  - {scope: [cmdb], must_have: [wazuh]}
`, closed, pw)
	if err := os.WriteFile(unreachable, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no config", nil, 2, "--config FILE is required"},
		{"missing file", []string{"--config", "/nonexistent/c.yaml"}, 2, "does not exist"},
		{"bad format", []string{"--config", coverageDir(t, ""), "-o", "xml"}, 2, "use one of table"},
		{"bad max", []string{"--config", coverageDir(t, ""), "--max", "gaps=3"}, 2, "unknown finding kind"},
		{"unknown key", []string{"--config", coverageDir(t, "colour: blue\n")}, 2, `line 8: unknown key "colour"`},
		{"unreachable source", []string{"--config", unreachable, "-q"}, 2, "unavailable sources: wazuh"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, ctx, coverageCmd(), c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, want %d; stderr %q should contain %q", r.code, c.code, r.stderr, c.want)
			}
			if c.name == "unreachable source" && strings.Contains(r.stdout, "MISSING_AGENT") {
				t.Errorf("an unavailable source produced missing agents:\n%s", r.stdout)
			}
		})
	}
}
