package history_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/history"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestShortAge(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, "0s"}, {0, "0s"}, {999 * time.Millisecond, "0s"}, {45 * time.Second, "45s"},
		{5*time.Minute + 12*time.Second, "5m12s"}, {5 * time.Minute, "5m"},
		{3*time.Hour + 20*time.Minute + 59*time.Second, "3h20m"}, {3 * time.Hour, "3h"},
		{52 * time.Hour, "2d4h"}, {48*time.Hour + 59*time.Minute, "2d"}, {400 * 24 * time.Hour, "400d"},
	}
	for _, tc := range cases {
		if got := history.ShortAge(tc.d); got != tc.want {
			t.Errorf("ShortAge(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// sample is a drift and its runs as a store would return them.
func sample() (history.Drift, []history.Run) {
	at := func(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }
	gap := func(kind, name string, first, last int64, firstAt, lastAt time.Time) history.Gap {
		return history.Gap{Key: kind + "|" + name, Kind: kind, Device: "dev-" + name, Name: name,
			Sources: []string{"inv", "wazuh"}, Message: kind + " on " + name, FirstRun: first, FirstSeen: firstAt,
			LastRun: last, LastSeen: lastAt}
	}
	open1 := gap(coverage.KindMissingAgent, "web-1", 1, 3, at(0), at(52))
	open1.Age, open1.AgeSeconds = 52*time.Hour, 52*3600
	open2 := gap(coverage.KindSilentFailure, "db\x1b[31m-2", 3, 3, at(52), at(52))
	open2.Message = "agent silent\nfor 3h"
	closed := gap(coverage.KindOrphan, "old-3", 1, 2, at(0), at(48))
	closed.ClosedRun, closed.ClosedAt, closed.Age, closed.AgeSeconds = 3, at(52), 52*time.Hour, 52*3600
	req := func(ratio float64, skipped string) []coverage.RequirementResult {
		return []coverage.RequirementResult{{Index: 0, Scope: []string{"inv"}, MustHave: []string{"wazuh"},
			InScope: 10, Covered: int(ratio * 10), Ratio: ratio, Skipped: skipped}}
	}
	srcs := []coverage.SourceStatus{{Name: "inv", Status: coverage.SourceOK}, {Name: "wazuh", Status: coverage.SourceOK}}
	runs := []history.Run{
		{ID: 3, StartedAt: at(52), ExitCode: 1, Devices: 10, Requirements: req(0.9, ""), Sources: srcs,
			Findings: map[string]int{coverage.KindMissingAgent: 1, coverage.KindSilentFailure: 1}},
		{ID: 2, StartedAt: at(48), ExitCode: 0, Devices: 10, Requirements: req(0, "wazuh is unavailable"),
			Sources:  []coverage.SourceStatus{srcs[0], {Name: "wazuh", Status: coverage.SourceUnavailable}},
			Findings: map[string]int{}},
	}
	d := history.Drift{LatestRun: 3, LatestAt: at(52), SinceRun: 2, SinceAt: at(48),
		Coverage: []history.RequirementDrift{{Index: 0, Scope: []string{"inv"}, MustHave: []string{"wazuh"},
			Before: 0.8, After: 0.9}},
		Opened: []history.Gap{open2}, Closed: []history.Gap{closed}, Open: []history.Gap{open1, open2}}
	return d, runs
}

func TestWriteTable(t *testing.T) {
	d, runs := sample()
	cases := []struct {
		name string
		d    history.Drift
		runs []history.Run
	}{
		{"table", d, runs},
		{"table_first", history.Drift{LatestRun: 1, LatestAt: t0, Coverage: []history.RequirementDrift{},
			Opened: []history.Gap{}, Closed: []history.Gap{}, Open: []history.Gap{}}, runs[1:]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := history.WriteTable(&b, tc.d, tc.runs); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(b.String(), "\x1b") {
				t.Error("a terminal escape from a device name reached the table")
			}
			golden(t, tc.name+".golden", b.Bytes())
		})
	}
}

func TestWriteJSON(t *testing.T) {
	d, runs := sample()
	var b bytes.Buffer
	if err := history.WriteJSON(&b, d, runs); err != nil {
		t.Fatal(err)
	}
	golden(t, "history.json.golden", b.Bytes())
	var doc struct {
		Version int               `json:"schema_version"`
		Runs    []json.RawMessage `json:"runs"`
		Drift   map[string]json.RawMessage
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != history.JSONVersion || len(doc.Runs) != 2 {
		t.Errorf("version %d with %d runs", doc.Version, len(doc.Runs))
	}
	for _, k := range []string{"latest_run", "since_run", "coverage", "opened", "closed", "open"} {
		if _, ok := doc.Drift[k]; !ok {
			t.Errorf("drift has no %q", k)
		}
	}

	// Empty lists are [] for readers that iterate without checking.
	b.Reset()
	if err := history.WriteJSON(&b, history.Drift{LatestRun: 1}, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"runs": []`, `"opened": []`, `"closed": []`, `"open": []`, `"coverage": []`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("empty history JSON lacks %s:\n%s", want, b.String())
		}
	}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}
