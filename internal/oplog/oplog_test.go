package oplog

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHandlerWritesOssecLogLines(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(&buf, slog.LevelDebug)
	log := slog.New(h)
	at := time.Date(2026, 12, 7, 16, 40, 1, 0, time.Local)
	rec := func(l *slog.Logger, level slog.Level, msg string, args ...any) {
		r := slog.NewRecord(at, level, msg, 0)
		r.Add(args...)
		l.Handler().Handle(t.Context(), r)
	}
	rec(log, slog.LevelInfo, "manager started", "port", 55000)
	rec(log.With(DaemonKey, "wazuh-remoted"), slog.LevelWarn, "remoted: too big message", "src", "10.0.0.1", "why", "a b")
	rec(log, slog.LevelError, "two\nlines", DaemonKey, "wazuh-authd", "err", "x\ny")
	rec(log.WithGroup("g").With("k", 1), LevelCritical, "crit", "v", true)
	rec(log, slog.LevelDebug, "dbg")
	want := "2026/12/07 16:40:01 wazuh-apid: INFO: manager started port=55000\n" +
		"2026/12/07 16:40:01 wazuh-remoted: WARNING: remoted: too big message src=10.0.0.1 why=\"a b\"\n" +
		"2026/12/07 16:40:01 wazuh-authd: ERROR: two lines err=\"x\\ny\"\n" +
		"2026/12/07 16:40:01 wazuh-apid: CRITICAL: crit g.k=1 g.v=true\n" +
		"2026/12/07 16:40:01 wazuh-apid: DEBUG: dbg\n"
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		e, ok := Parse(line)
		if !ok || !e.Time.Equal(at) {
			t.Fatalf("line %d does not parse back: %q %+v", i, line, e)
		}
	}
	if e, _ := Parse(strings.Split(buf.String(), "\n")[1]); e.Tag != "wazuh-remoted" || e.Level != "warning" ||
		e.Description != ` remoted: too big message src=10.0.0.1 why="a b"` {
		t.Fatalf("parsed %+v", e)
	}
	if NewHandler(&buf, nil).Enabled(t.Context(), slog.LevelDebug) {
		t.Fatal("debug enabled by default")
	}
}

func TestParseWazuhLines(t *testing.T) {
	for line, want := range map[string]Entry{
		"2024/01/02 03:04:05 wazuh-modulesd:syscollector: INFO: Evaluation finished.": {Tag: "wazuh-modulesd:syscollector", Level: "info", Description: " Evaluation finished."},
		"2024/01/02 03:04:05 rootcheck: INFO: Ending rootcheck scan.":                 {Tag: "wazuh-rootcheck", Level: "info", Description: " Ending rootcheck scan."},
		"2024/01/02 03:04:05 wazuh-db[123] main.c:10: ERROR: x":                       {Tag: "wazuh-db", Level: "error", Description: " x"},
	} {
		got, ok := Parse(line)
		got.Time = time.Time{}
		if !ok || got != want {
			t.Errorf("%q: %+v %v", line, got, ok)
		}
	}
	for _, bad := range []string{"", "continued text", "2024/01/02 03:04:05 tag: NOTICE: x", "2024/13/02 03:04:05 t: INFO: x"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ossec.log")
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "line %d %s\n", i, strings.Repeat("x", i%50))
	}
	b.WriteString(strings.Repeat("y", 200<<10) + "\n") // too long: skipped
	b.WriteString("last")
	os.WriteFile(path, []byte(b.String()), 0o600)
	got, err := Tail(path, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2000 || !strings.HasPrefix(got[0], "line 3001 ") || got[1998] != "line 4999 "+strings.Repeat("x", 4999%50) ||
		got[1999] != "last" {
		t.Fatalf("%d lines: %q ... %q", len(got), got[0], got[len(got)-2:])
	}
	if got, _ := Tail(path, 1); len(got) != 1 || got[0] != "last" {
		t.Fatalf("tail 1: %q", got)
	}
	if _, err := Tail(filepath.Join(t.TempDir(), "none"), 10); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestTee(t *testing.T) {
	var a, b bytes.Buffer
	log := slog.New(Tee(NewHandler(&a, slog.LevelInfo), slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelWarn})))
	log.With(DaemonKey, "wazuh-authd").Info("hello")
	log.Warn("careful")
	if strings.Count(a.String(), "\n") != 2 || !strings.Contains(a.String(), "wazuh-authd: INFO: hello") {
		t.Fatalf("ossec handler: %q", a.String())
	}
	if strings.Count(b.String(), "\n") != 1 || !strings.Contains(b.String(), "careful") {
		t.Fatalf("text handler: %q", b.String())
	}
}

func FuzzParse(f *testing.F) {
	f.Add("2024/01/02 03:04:05 wazuh-db: INFO: x")
	f.Add("2024/01/02 03:04:05 a[: ERROR:")
	f.Fuzz(func(t *testing.T, line string) {
		e, ok := Parse(line)
		if ok && (e.Tag == "" || e.Level == "") {
			t.Fatalf("%q: %+v", line, e)
		}
	})
}
