package history_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/history"
)

// FuzzRecordText feeds vendor-shaped text (any bytes) through Record, Drift
// and the table: storing never fails on it, it reads back as valid UTF-8
// without NUL, the same key finds the same gap, and the table stays free of
// control characters.
func FuzzRecordText(f *testing.F) {
	f.Add("orphan|d1|wazuh", "host-1", "wazuh", "no agent")
	f.Add("k\x00", "\xff\xfe", "src\x1b[2J", "line\nbreak\ttab\u202e")
	f.Fuzz(func(t *testing.T, key, name, source, message string) {
		if key == "" {
			return // Record rejects it, tested elsewhere
		}
		s := openAt(t, filepath.Join(t.TempDir(), "h.db"))
		fd := coverage.Finding{Key: key, Kind: coverage.KindOrphan, Device: name, Name: name,
			Sources: []string{source}, Message: message}
		r := report(0, nil, fd)
		r.Sources = []coverage.SourceStatus{{Name: source, Status: coverage.SourceOK}}
		if _, err := s.Record(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		d := drift(t, s, 0)
		if len(d.Open) != 1 {
			t.Fatalf("%d open gaps, want 1", len(d.Open))
		}
		g := d.Open[0]
		for _, v := range append([]string{g.Key, g.Name, g.Message}, g.Sources...) {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				t.Errorf("stored %q is not clean text", v)
			}
		}
		r.StartedAt = r.StartedAt.Add(time.Hour)
		if _, err := s.Record(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if d := drift(t, s, 0); len(d.Opened) != 0 || len(d.Closed) != 0 || len(d.Open) != 1 {
			t.Errorf("the same key drifted: opened %d closed %d open %d", len(d.Opened), len(d.Closed), len(d.Open))
		}
		var b bytes.Buffer
		if err := history.WriteTable(&b, d, nil); err != nil {
			t.Fatal(err)
		}
		for _, c := range b.String() {
			if c != '\n' && (unicode.IsControl(c) || unicode.Is(unicode.Cf, c)) {
				t.Fatalf("table holds control character %U", c)
			}
		}
	})
}
