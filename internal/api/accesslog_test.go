package api

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/logfile"
	"github.com/muster-project/muster/internal/testclock"
)

func TestAccessLogFormats(t *testing.T) {
	dir := t.TempDir()
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	l, err := OpenAccessLog(dir, "plain,json", "info", 0, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/security/users?pretty=true", nil)
	rec := &recorder{status: 200, user: "wazuh", body: map[string]any{"username": "bob", "password": "Secret-1!"}}
	l.Request(r, rec, "192.0.2.1", 1500*time.Microsecond)
	l.Close()
	plain, _ := os.ReadFile(filepath.Join(dir, "api.log"))
	want := `2026/01/02 03:04:05 INFO: wazuh 192.0.2.1 "POST /security/users" with parameters {"pretty": "true"} and body {"password": "****", "username": "bob"} done in 0.002s: 200` + "\n"
	if string(plain) != want {
		t.Fatalf("plain line\n got %q\nwant %q", plain, want)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "api.json"))
	var entry struct {
		Timestamp string `json:"timestamp"`
		Levelname string `json:"levelname"`
		Data      struct {
			Type    string         `json:"type"`
			Payload map[string]any `json:"payload"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &entry); err != nil {
		t.Fatalf("json line: %v: %s", err, raw)
	}
	p := entry.Data.Payload
	if entry.Levelname != "INFO" || entry.Data.Type != "request" || p["user"] != "wazuh" || p["uri"] != "POST /security/users" ||
		p["status_code"] != float64(200) || p["body"].(map[string]any)["password"] != "****" {
		t.Fatalf("json entry %+v", entry)
	}
	if strings.Contains(string(raw)+string(plain), "Secret-1!") {
		t.Fatal("a password reached the log")
	}
}

// gunzipped is the content of a gzip file.
func gunzipped(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAccessLogRotatesBySize(t *testing.T) {
	dir := t.TempDir()
	clk := testclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	l, err := OpenAccessLog(dir, "plain", "info", 300, clk.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	for i := 0; i < 5; i++ {
		l.Request(r, &recorder{status: 200}, "127.0.0.1", time.Millisecond)
		clk.Advance(24 * time.Hour) // no daily rotation while max_size is on, as in Wazuh
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	line := func(day int) string {
		return fmt.Sprintf(`2026/01/%02d 03:04:05 INFO: unknown_user 127.0.0.1 "GET /" with parameters {} and body {} done in 0.001s: 200`+"\n", day)
	}
	// 108-byte lines: two fit in 300; the third rotates, named by the day
	// it came (the 4th), and the fifth on the 6th.
	if got, want := gunzipped(t, filepath.Join(dir, "api/2026/Jan/api.log-04_1.gz")), line(2)+line(3); got != want {
		t.Errorf("first archive\n got %q\nwant %q", got, want)
	}
	if got, want := gunzipped(t, filepath.Join(dir, "api/2026/Jan/api.log-06_1.gz")), line(4)+line(5); got != want {
		t.Errorf("second archive\n got %q\nwant %q", got, want)
	}
	plain, _ := os.ReadFile(filepath.Join(dir, "api.log"))
	if want := line(6); string(plain) != want {
		t.Errorf("live file\n got %q\nwant %q", plain, want)
	}
	if s := l.Stats(); len(s) != 1 || s[0].File != "api.log" || s[0].Rotations != 2 || s[0].Written != 5 {
		t.Errorf("stats %+v", s)
	}
}

func TestAccessLogRotatesDaily(t *testing.T) {
	dir := t.TempDir()
	clk := testclock.New(time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC))
	l, err := OpenAccessLog(dir, "plain,json", "info", 0, clk.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/agents", nil)
	l.Request(r, &recorder{status: 200, user: "wazuh"}, "192.0.2.1", time.Millisecond)
	clk.Advance(time.Second) // midnight: a new year
	l.Request(r, &recorder{status: 200, user: "wazuh"}, "192.0.2.1", time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got := gunzipped(t, filepath.Join(dir, "api/2026/Dec/api.log-31.gz"))
	if !strings.HasPrefix(got, "2026/12/31 23:59:59 INFO: wazuh") || strings.Count(got, "\n") != 1 {
		t.Errorf("plain archive %q", got)
	}
	got = gunzipped(t, filepath.Join(dir, "api/2026/Dec/api.json-31.gz"))
	if !strings.HasPrefix(got, `{"timestamp":"2026/12/31 23:59:59"`) || strings.Count(got, "\n") != 1 {
		t.Errorf("json archive %q", got)
	}
	plain, _ := os.ReadFile(filepath.Join(dir, "api.log"))
	if !strings.HasPrefix(string(plain), "2027/01/01 00:00:00 INFO: wazuh") {
		t.Errorf("live file %q", plain)
	}
}

// syncBuffer is an operational log the writers' reporter can write to
// while the test reads it; each write pings wrote.
type syncBuffer struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{wrote: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the log holds want.
func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	for !strings.Contains(s.String(), want) {
		select {
		case <-s.wrote:
		case <-time.After(10 * time.Second):
			t.Fatalf("the operational log never said %q:\n%s", want, s.String())
		}
	}
}

// faultyFile is a real log file whose writes can hang (stuck disk) or fail
// with ENOSPC (full disk).
type faultyFile struct {
	*os.File
	full    *atomic.Bool
	stuck   chan struct{} // a value makes the next write wait for release
	entered chan struct{}
	release chan struct{}
}

func (f faultyFile) Write(b []byte) (int, error) {
	select {
	case <-f.stuck:
		f.entered <- struct{}{}
		<-f.release
	default:
	}
	if f.full.Load() {
		return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Write(b)
}

func openFaulty(dir string, queueLen int, log *slog.Logger) (*AccessLog, *faultyFile, error) {
	ff := &faultyFile{full: new(atomic.Bool), stuck: make(chan struct{}, 1), entered: make(chan struct{}),
		release: make(chan struct{})}
	l, err := openAccessLog(dir, "plain", "info", 0, time.Now, log, func(c *logfile.Config) {
		c.QueueLen = queueLen
		c.Open = func(p string) (logfile.File, error) {
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				return nil, err
			}
			ff := *ff
			ff.File = f
			return ff, nil
		}
	})
	return l, ff, err
}

func TestAccessLogDropsRatherThanStallsOnAStuckDisk(t *testing.T) {
	dir := t.TempDir()
	oplog := newSyncBuffer()
	l, ff, err := openFaulty(dir, 2, slog.New(slog.NewTextHandler(oplog, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/agents", nil)
	ff.stuck <- struct{}{}
	l.Request(r, &recorder{status: 200}, "192.0.2.1", time.Millisecond)
	<-ff.entered               // the writer is stuck on the first line
	for i := 0; i < 2+3; i++ { // two fill the queue, three are dropped
		l.Request(r, &recorder{status: 200}, "192.0.2.1", time.Millisecond)
	}
	if s := l.Stats(); s[0].Dropped != 3 {
		t.Fatalf("stats while stuck %+v", s)
	}
	oplog.waitFor(t, "access log: dropping lines: queue full") // while the disk is still stuck
	close(ff.release)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(oplog.String(), `msg="access log: 3 lines dropped: queue full, the disk is too slow" file=api.log`) {
		t.Errorf("operational log:\n%s", oplog.String())
	}
	plain, _ := os.ReadFile(filepath.Join(dir, "api.log"))
	if n := strings.Count(string(plain), "\n"); n != 3 {
		t.Errorf("%d lines written, want 3", n)
	}
	if s := l.Stats(); s[0].Written != 3 || s[0].Dropped != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestAccessLogReportsAFullDisk(t *testing.T) {
	dir := t.TempDir()
	oplog := newSyncBuffer()
	l, ff, err := openFaulty(dir, 0, slog.New(slog.NewTextHandler(oplog, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/agents", nil)
	ff.full.Store(true)
	l.Request(r, &recorder{status: 200}, "192.0.2.1", time.Millisecond)
	l.Request(r, &recorder{status: 200}, "192.0.2.1", time.Millisecond)
	if err := l.plain.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s[0].Dropped != 2 {
		t.Fatalf("stats while full %+v", s)
	}
	ff.full.Store(false)
	l.Request(r, &recorder{status: 200}, "192.0.2.1", time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	out := oplog.String()
	if strings.Count(out, "access log: dropping lines: disk full") != 1 ||
		!strings.Contains(out, `msg="access log: 2 lines dropped: disk full" file=api.log`) {
		t.Errorf("operational log:\n%s", out)
	}
	if s := l.Stats(); s[0].Written != 1 || s[0].Dropped != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestAccessLogDisabledWritesNothing(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenAccessLog(dir, "json", "disabled", 0, time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Request(httptest.NewRequest("GET", "/", nil), &recorder{status: 200}, "192.0.2.1", time.Millisecond)
	l.Close()
	if raw, _ := os.ReadFile(filepath.Join(dir, "api.json")); len(raw) != 0 {
		t.Errorf("api.json %q", raw)
	}
	if s := l.Stats(); len(s) != 1 || s[0].File != "api.json" || s[0].Written != 0 {
		t.Errorf("stats %+v", s)
	}
}

func FuzzBasicCredentials(f *testing.F) {
	for _, s := range []string{"Basic d2F6dWg6d2F6dWg=", "basic", "Basic !!", "Bearer x", "Basic \xff\xfe", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		u, p, ok := basicCredentials(h)
		if !ok && (u != "" || p != "") {
			t.Fatal("credentials returned with ok=false")
		}
	})
}

func FuzzJSONSyntaxDetail(f *testing.F) {
	for _, s := range []string{"", "{", "not json", "[1,", "\"\\u12"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			if jsonSyntaxDetail(b, err) == "" {
				t.Fatal("empty detail")
			}
		}
		_ = tooDeep(b)
	})
}
