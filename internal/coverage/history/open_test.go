package history_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/history"
)

func TestSQLiteFileIsPrivate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h.db")
	s := openAt(t, p)
	record(t, s, report(0, both, finding(coverage.KindOrphan, "d", "wazuh")))
	for _, f := range []string{p, p + "-wal", p + "-shm"} {
		fi, err := os.Stat(f)
		if os.IsNotExist(err) && f != p {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(f), m)
		}
	}
}

func TestReopenKeepsHistory(t *testing.T) {
	conformance(t, func(t *testing.T, s *history.Store) {
		v, err := s.SchemaVersion(context.Background())
		if err != nil || v != 1 {
			t.Errorf("schema version %d, %v; want 1", v, err)
		}
	})
	p := filepath.Join(t.TempDir(), "h.db")
	s, err := history.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	id := record(t, s, report(0, both))
	s.Close()
	s = openAt(t, p)
	if runs, err := s.Runs(context.Background(), 0); err != nil || len(runs) != 1 || runs[0].ID != id {
		t.Errorf("after reopening: %d runs, %v", len(runs), err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h.db")
	s, err := history.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	history.Exec(t, s, `INSERT INTO coverage_schema (version) VALUES (99)`)
	s.Close()
	if _, err := history.Open(context.Background(), p); err == nil || !strings.Contains(err.Error(), "upgrade muster") {
		t.Errorf("opening a newer schema: %v, want an upgrade hint", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, target, want string }{
		{"empty", "  ", "no target"},
		{"missing folder", filepath.Join(dir, "nope", "h.db"), "does not exist"},
		{"other scheme", "mysql://u@h/db", "unsupported scheme"},
		{"memory", ":memory:", "not a plain file path"},
		{"uri", "file:h.db", "not a plain file path"},
		{"question mark", filepath.Join(dir, "h?.db"), "may not contain"},
		{"a folder", dir, "cannot open"},
		{"bad postgres", "postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", "connect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := history.Open(context.Background(), tc.target)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open(%q) = %v, want an error saying %q", tc.target, err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}
