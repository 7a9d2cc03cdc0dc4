package scan_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/scan"
)

func fixtureReport(t *testing.T, agents []map[string]any) *scan.Report {
	t.Helper()
	f := newFakeManager(agents)
	r, err := scan.Run(context.Background(), startFake(t, f), scan.Options{Now: f.now, PerAgent: true})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTableAndSummary(t *testing.T) {
	r := fixtureReport(t, loadFixture(t))
	var b bytes.Buffer
	if err := scan.Write(&b, r, "table", 3); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"CLASS", "silent >=30d", "disconnected             7", "AGENTS (first 3 of 13",
		"outdated                 8       0  << over", "note: agents_disconnection_time is Wazuh's default 15m",
		"summary: 40 agents: 27 healthy, 2 pending, 7 disconnected, 8 outdated, 1 config not synced; over threshold:"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if err := scan.Write(io.Discard, r, "yaml", 0); err == nil || !strings.Contains(err.Error(), "table, json, csv, prometheus") {
		t.Errorf("unknown format: %v", err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := fixtureReport(t, loadFixture(t))
	var b bytes.Buffer
	if err := scan.Write(&b, r, "json", 0); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"url", "settings", "classes", "findings", "disconnected_by_age", "duplicates", "breaches", "exit_code", "agents"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if n := len(back["agents"].([]any)); n != 13 {
		t.Errorf("agents listed: %d", n)
	}
}

// CSV lists every agent with a finding and neutralises spreadsheet formulas.
func TestCSV(t *testing.T) {
	ka := ago(time.Hour)
	r := fixtureReport(t, []map[string]any{
		agent("001", "=cmd|' /C calc'!A0", "10.0.0.1", "disconnected", "lastKeepAlive", ka),
		agent("002", "plain,name", "10.0.0.2", "disconnected", "lastKeepAlive", ka),
	})
	var b bytes.Buffer
	if err := scan.Write(&b, r, "csv", 0); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "id" || recs[1][1] != "'=cmd|' /C calc'!A0" || recs[2][1] != "plain,name" || recs[1][7] != "<1d" {
		t.Errorf("csv: %q", recs)
	}
}

var promLine = regexp.MustCompile(`^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? [0-9.e+-]+$`)

// checkExposition verifies every line of the text format.
func checkExposition(t *testing.T, text string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(l, "# HELP ") || strings.HasPrefix(l, "# TYPE ") {
			continue
		}
		if !promLine.MatchString(l) {
			t.Errorf("bad exposition line %q", l)
		}
	}
}

func TestPrometheusOutput(t *testing.T) {
	r := fixtureReport(t, append(loadFixture(t), agent("099", "we\"ird\nname", "10.9.9.9", "active", "lastKeepAlive", ago(time.Second))))
	var b bytes.Buffer
	if err := scan.WritePrometheus(&b, scan.Metrics(r, true)); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	checkExposition(t, text)
	for _, want := range []string{`muster_scan_agents{class="disconnected"} 7`, `muster_scan_findings{finding="outdated"} 8`,
		`muster_scan_agents_by_age{bucket=">=30d",class="disconnected"} 2`, `muster_scan_setting_seconds{setting="stale_after"} 60`,
		`muster_scan_agent_keepalive_age_seconds{group="default",id="024",name="mac-dan",node="node01"} 8.208e+06`,
		`name="we\"ird\nname"`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Never-connected agents have no keepalive and no per-agent series.
	if strings.Contains(text, `id="035"`) {
		t.Error("never-connected agent has a keepalive series")
	}
	b.Reset()
	scan.Write(&b, r, "prometheus", 0)
	if strings.Contains(b.String(), "keepalive_age") {
		t.Error("--output prometheus must not include per-agent series")
	}
}

func TestExporter(t *testing.T) {
	r := fixtureReport(t, loadFixture(t))
	x := scan.NewExporter(false)
	srv := httptest.NewServer(x)
	defer srv.Close()
	get := func() string {
		resp, err := srv.Client().Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("content type %q", ct)
		}
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	x.Update(r, nil, 1, fixtureT0)
	text := get()
	checkExposition(t, text)
	for _, want := range []string{"muster_scan_up 1", "muster_scan_runs_total 1", "muster_scan_logins_total 1",
		"muster_scan_last_success_timestamp_seconds 1.795599459e+09", `muster_scan_agents{class="active"} 25`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(text, "keepalive_age") {
		t.Error("per-agent series without the flag")
	}
	x.Update(nil, errors.New("boom"), 1, fixtureT0.Add(time.Minute))
	text = get()
	for _, want := range []string{"muster_scan_up 0", "muster_scan_errors_total 1", "muster_scan_exit_code 2",
		`muster_scan_agents{class="active"} 25`} {
		if !strings.Contains(text, want) {
			t.Errorf("after a failure, metrics lack %q", want)
		}
	}
}
