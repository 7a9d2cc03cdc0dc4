package logfile

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/testclock"
)

var jan2 = time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)

func open(t *testing.T, cfg Config) *Writer {
	t.Helper()
	w, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func flush(t *testing.T, w *Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// gunzip returns the content of a gzip file and the name in its header.
func gunzip(t *testing.T, p string) (string, string) {
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
	return string(b), zr.Name
}

// archives lists the files under dir other than the live log, relative.
func archives(t *testing.T, dir, live string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			if rel != live {
				out = append(out, rel)
			}
		}
		return nil
	})
	return out
}

func TestWazuhArchiveNames(t *testing.T) {
	day := time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		n    int
		want string
	}{
		{"api.log", 0, "api/2026/Mar/api.log-07.gz"},
		{"api.json", 0, "api/2026/Mar/api.json-07.gz"},
		{"api.log", 1, "api/2026/Mar/api.log-07_1.gz"},
		{"api.json", 12, "api/2026/Mar/api.json-07_12.gz"},
	} {
		if got := WazuhArchive(c.name)(day, c.n); got != filepath.FromSlash(c.want) {
			t.Errorf("%s #%d: %s, want %s", c.name, c.n, got, c.want)
		}
	}
}

func TestDailyRotation(t *testing.T) {
	dir := t.TempDir()
	clk := testclock.New(jan2)
	w := open(t, Config{Dir: dir, Name: "api.log", Daily: true, Now: clk.Now})
	w.WriteLine("a1")
	w.WriteLine("a2\n")
	flush(t, w)
	clk.Advance(14*time.Hour + time.Second) // 00:00:01 on the 3rd
	w.WriteLine("b1")
	flush(t, w)
	clk.Advance(29 * 24 * time.Hour) // 1 February: the 3rd is archived in January
	w.WriteLine("c1")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	got, hdr := gunzip(t, filepath.Join(dir, "api/2026/Jan/api.log-02.gz"))
	if got != "a1\na2\n" || hdr != "api.log-02" {
		t.Errorf("archive of the 2nd: %q (header name %q)", got, hdr)
	}
	if got, _ := gunzip(t, filepath.Join(dir, "api/2026/Jan/api.log-03.gz")); got != "b1\n" {
		t.Errorf("archive of the 3rd: %q", got)
	}
	if got := read(t, filepath.Join(dir, "api.log")); got != "c1\n" {
		t.Errorf("live file: %q", got)
	}
	if a := archives(t, dir, "api.log"); len(a) != 2 {
		t.Errorf("files besides api.log: %v", a)
	}
	if s := w.Stats(); s.Written != 4 || s.Dropped != 0 || s.Rotations != 2 || s.File != "api.log" {
		t.Errorf("stats %+v", s)
	}
	for p, want := range map[string]os.FileMode{"api.log": 0o600, "api": 0o700 | os.ModeDir,
		"api/2026/Jan": 0o700 | os.ModeDir, "api/2026/Jan/api.log-02.gz": 0o600} {
		if st, err := os.Stat(filepath.Join(dir, p)); err != nil || st.Mode() != want {
			t.Errorf("%s: mode %v, want %v (%v)", p, st.Mode(), want, err)
		}
	}
}

func TestDailyRotationSkipsAnEmptyDay(t *testing.T) {
	dir := t.TempDir()
	clk := testclock.New(jan2)
	w := open(t, Config{Dir: dir, Name: "api.log", Daily: true, Now: clk.Now})
	clk.Advance(24 * time.Hour)
	w.WriteLine("x")
	w.Close()
	if a := archives(t, dir, "api.log"); len(a) != 0 || w.Stats().Rotations != 0 {
		t.Errorf("an empty file was archived: %v", a)
	}
}

func TestSizeRotation(t *testing.T) {
	dir := t.TempDir()
	clk := testclock.New(jan2)
	// An archive from an earlier run of the same day keeps its number.
	month := filepath.Join(dir, "api", "2026", "Jan")
	os.MkdirAll(month, 0o700)
	os.WriteFile(filepath.Join(month, "api.json-02_1.gz"), []byte("old"), 0o600)

	w := open(t, Config{Dir: dir, Name: "api.json", MaxSize: 10, Now: clk.Now})
	for i := 1; i <= 5; i++ {
		w.WriteLine(fmt.Sprintf("l%d\n", i)) // 3 bytes: three fit in 10
	}
	flush(t, w)
	clk.Advance(24 * time.Hour) // size rotations are named by the day they happen
	for i := 6; i <= 9; i++ {
		w.WriteLine(fmt.Sprintf("l%d", i))
	}
	w.Close()

	want := map[string]string{
		"api/2026/Jan/api.json-02_2.gz": "l1\nl2\nl3\n",
		"api/2026/Jan/api.json-03_1.gz": "l4\nl5\nl6\n",
	}
	for p, content := range want {
		if got, _ := gunzip(t, filepath.Join(dir, p)); got != content {
			t.Errorf("%s: %q, want %q", p, got, content)
		}
	}
	if got := read(t, filepath.Join(dir, "api.json")); got != "l7\nl8\nl9\n" {
		t.Errorf("live file %q", got)
	}
	if a := archives(t, dir, "api.json"); len(a) != 3 {
		t.Errorf("files: %v", a)
	}
	if s := w.Stats(); s.Rotations != 2 || s.Written != 9 {
		t.Errorf("stats %+v", s)
	}
}

func TestSizeRotationOfALineLargerThanTheMaximum(t *testing.T) {
	dir := t.TempDir()
	w := open(t, Config{Dir: dir, Name: "x.log", MaxSize: 4, Now: testclock.New(jan2).Now})
	w.WriteLine("0123456789")
	w.WriteLine("ab")
	w.Close()
	if got, _ := gunzip(t, filepath.Join(dir, "x/2026/Jan/x.log-02_1.gz")); got != "0123456789\n" {
		t.Errorf("archive %q", got)
	}
	if got := read(t, filepath.Join(dir, "x.log")); got != "ab\n" {
		t.Errorf("live %q", got)
	}
}

func TestRestartOnALaterDayRotatesTheOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "api.log")
	os.WriteFile(p, []byte("yesterday\n"), 0o600)
	old := time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC)
	os.Chtimes(p, old, old)
	w := open(t, Config{Dir: dir, Name: "api.log", Daily: true, Now: testclock.New(jan2).Now})
	w.WriteLine("today")
	w.Close()
	if got, _ := gunzip(t, filepath.Join(dir, "api/2026/Jan/api.log-01.gz")); got != "yesterday\n" {
		t.Errorf("archive %q", got)
	}
	if got := read(t, p); got != "today\n" {
		t.Errorf("live %q", got)
	}
}

func TestLeftoverRotatedFilesAreCompressedAtOpen(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "api.log.2026-01-01.s00000000000000000007"), []byte("s7\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "api.log.2026-01-01.s00000000000000000003"), []byte("s3\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "api.log.2026-01-01.dxx"), []byte("not ours\n"), 0o600)
	w := open(t, Config{Dir: dir, Name: "api.log", Now: testclock.New(jan2).Now})
	flush(t, w)
	for p, content := range map[string]string{"api/2026/Jan/api.log-01_1.gz": "s3\n",
		"api/2026/Jan/api.log-01_2.gz": "s7\n"} {
		if got, _ := gunzip(t, filepath.Join(dir, p)); got != content {
			t.Errorf("%s: %q", p, got)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "api.log.2026-01-01.dxx")); err != nil {
		t.Errorf("a file not named like a rotation was touched: %v", err)
	}
}

func TestDailyRotationOfADayAlreadyArchivedAppends(t *testing.T) {
	dir := t.TempDir()
	month := filepath.Join(dir, "api", "2026", "Jan")
	os.MkdirAll(month, 0o700)
	var old bytes.Buffer
	zw := gzip.NewWriter(&old)
	zw.Write([]byte("archived\n"))
	zw.Close()
	os.WriteFile(filepath.Join(month, "api.log-01.gz"), old.Bytes(), 0o600)
	p := filepath.Join(dir, "api.log")
	os.WriteFile(p, []byte("left over\n"), 0o600)
	jan1 := time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC)
	os.Chtimes(p, jan1, jan1)

	w := open(t, Config{Dir: dir, Name: "api.log", Daily: true, Now: testclock.New(jan2).Now})
	w.WriteLine("today")
	w.Close()
	if got, _ := gunzip(t, filepath.Join(month, "api.log-01.gz")); got != "archived\nleft over\n" {
		t.Errorf("archive %q", got)
	}
}

// stamped is an entry with its own time.
type stamped struct {
	s string
	t time.Time
}

func (e stamped) AppendLine(dst []byte) []byte { return append(dst, e.s...) }
func (e stamped) Time() time.Time              { return e.t }

func TestLinesAreFiledByTheirTime(t *testing.T) {
	dir := t.TempDir()
	clk := testclock.New(jan2)
	w := open(t, Config{Dir: dir, Name: "api.log", Daily: true, Now: clk.Now})
	clk.Advance(14 * time.Hour) // the clock is on the 3rd when the lines are written
	w.WriteEntry(stamped{"late on the 2nd", jan2})
	w.WriteEntry(stamped{"on the 3rd", jan2.Add(14 * time.Hour)})
	w.WriteEntry(stamped{"later still from the 2nd", jan2.Add(time.Hour)})
	w.WriteLine("clock read at Write: the 3rd")
	w.Close()
	if got, _ := gunzip(t, filepath.Join(dir, "api/2026/Jan/api.log-02.gz")); got != "late on the 2nd\n" {
		t.Errorf("archive %q", got)
	}
	if got := read(t, filepath.Join(dir, "api.log")); got != "on the 3rd\nlater still from the 2nd\nclock read at Write: the 3rd\n" {
		t.Errorf("live %q", got)
	}
}

// disk is a real file whose writes can be made to fail (full) or hang
// (stuck), or to write only part of what they are given.
type disk struct {
	*os.File
	d *diskState
}

type diskState struct {
	full    atomic.Bool
	partial atomic.Int64 // bytes written before ENOSPC when full; 0: none
	stuck   chan struct{}
	entered chan struct{}
	release chan struct{}
}

func (f disk) Write(b []byte) (int, error) {
	if f.d.stuck != nil {
		select {
		case <-f.d.stuck:
			f.d.entered <- struct{}{}
			<-f.d.release
		default:
		}
	}
	if f.d.full.Load() {
		n := int(f.d.partial.Load())
		if n > len(b) {
			n = len(b)
		}
		n, _ = f.File.Write(b[:n])
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Write(b)
}

func (d *diskState) open(p string) (File, error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return disk{f, d}, nil
}

type events struct{ c chan Event }

func newEvents() *events { return &events{c: make(chan Event, 100)} }

func (e *events) on(ev Event) { e.c <- ev }

func (e *events) next(t *testing.T) Event {
	t.Helper()
	select {
	case ev := <-e.c:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
		return Event{}
	}
}

func TestFullQueueDropsWithoutBlocking(t *testing.T) {
	dir := t.TempDir()
	d := &diskState{stuck: make(chan struct{}, 1), entered: make(chan struct{}), release: make(chan struct{})}
	ev := newEvents()
	w := open(t, Config{Dir: dir, Name: "a.log", QueueLen: 8, Open: d.open, OnEvent: ev.on,
		Now: testclock.New(jan2).Now})
	d.stuck <- struct{}{}
	w.WriteLine("line 0")
	<-d.entered // the writer holds line 0 and is stuck in the disk
	for i := 1; i <= 8; i++ {
		if err := w.WriteLine(fmt.Sprintf("line %d", i)); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	for i := 0; i < 5; i++ { // these would block a synchronous writer forever
		if err := w.WriteLine("dropped"); !errors.Is(err, ErrQueueFull) {
			t.Fatalf("want ErrQueueFull, got %v", err)
		}
	}
	if n, err := w.Write([]byte("dropped too\n")); n != 0 || !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Write: %d, %v", n, err)
	}
	if s := w.Stats(); s.Dropped != 6 || s.Written != 0 {
		t.Fatalf("stats while stuck %+v", s)
	}
	// Reported while the disk is still stuck.
	if e := ev.next(t); !errors.Is(e.Err, ErrQueueFull) || e.Ended || e.Dropped != 1 || e.File != "a.log" {
		t.Fatalf("start event %+v", e)
	}
	close(d.release)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if e := ev.next(t); !errors.Is(e.Err, ErrQueueFull) || !e.Ended || e.Dropped != 6 {
		t.Fatalf("end event %+v", e)
	}
	got := read(t, filepath.Join(dir, "a.log"))
	var want strings.Builder
	for i := 0; i <= 8; i++ {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	if got != want.String() {
		t.Errorf("file %q", got)
	}
	if s := w.Stats(); s.Dropped != 6 || s.Written != 9 {
		t.Errorf("stats %+v", s)
	}
}

func TestCloseGivesUpOnAStuckDisk(t *testing.T) {
	d := &diskState{stuck: make(chan struct{}, 1), entered: make(chan struct{}), release: make(chan struct{})}
	w, err := Open(Config{Dir: t.TempDir(), Name: "a.log", Open: d.open, DrainTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	d.stuck <- struct{}{}
	w.WriteLine("a")
	<-d.entered
	w.WriteLine("b")
	err = w.Close()
	close(d.release)
	if err == nil || !strings.Contains(err.Error(), "1 lines still queued") {
		t.Fatalf("Close: %v", err)
	}
}

func TestDiskFullDropsCountsReportsAndRecovers(t *testing.T) {
	dir := t.TempDir()
	d := &diskState{}
	ev := newEvents()
	w := open(t, Config{Dir: dir, Name: "a.log", Open: d.open, OnEvent: ev.on, Now: testclock.New(jan2).Now})
	w.WriteLine("before")
	flush(t, w)
	d.full.Store(true)
	d.partial.Store(3)
	w.WriteLine("lost one")
	flush(t, w)
	d.partial.Store(0)
	w.WriteLine("lost two")
	flush(t, w)
	if e := ev.next(t); !errors.Is(e.Err, syscall.ENOSPC) || e.Ended || e.Dropped != 1 {
		t.Fatalf("start event %+v", e)
	}
	d.full.Store(false)
	w.WriteLine("after")
	flush(t, w)
	if e := ev.next(t); !errors.Is(e.Err, syscall.ENOSPC) || !e.Ended || e.Dropped != 2 {
		t.Fatalf("end event %+v", e)
	}
	select {
	case e := <-ev.c:
		t.Fatalf("one report per episode, got another: %+v", e)
	default:
	}
	// The partly written line is ended, so the next one starts a line.
	if got := read(t, filepath.Join(dir, "a.log")); got != "before\nlos\nafter\n" {
		t.Errorf("file %q", got)
	}
	if s := w.Stats(); s.Written != 2 || s.Dropped != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestDevFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	dir := t.TempDir()
	if err := os.Symlink("/dev/full", filepath.Join(dir, "a.log")); err != nil {
		t.Skip(err)
	}
	ev := newEvents()
	w := open(t, Config{Dir: dir, Name: "a.log", OnEvent: ev.on})
	w.WriteLine("x")
	w.WriteLine("y")
	flush(t, w)
	if e := ev.next(t); !errors.Is(e.Err, syscall.ENOSPC) {
		t.Fatalf("event %+v", e)
	}
	if s := w.Stats(); s.Dropped != 2 || s.Written != 0 || s.Rotations != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestOpenFailureAfterRotationIsRetried(t *testing.T) {
	dir := t.TempDir()
	var fail atomic.Bool
	openFn := func(p string) (File, error) {
		if fail.Load() {
			return nil, &os.PathError{Op: "open", Path: p, Err: syscall.ENOSPC}
		}
		return os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	}
	w := open(t, Config{Dir: dir, Name: "a.log", MaxSize: 3, Open: openFn, Now: testclock.New(jan2).Now})
	w.WriteLine("a")
	flush(t, w)
	fail.Store(true)
	w.WriteLine("b") // rotates; the new file cannot be made
	flush(t, w)
	fail.Store(false)
	w.WriteLine("c")
	w.Close()
	if got := read(t, filepath.Join(dir, "a.log")); got != "c\n" {
		t.Errorf("live %q", got)
	}
	if s := w.Stats(); s.Written != 2 || s.Dropped != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestConcurrentWritersLoseNothing(t *testing.T) {
	const writers, lines = 8, 1500
	dir := t.TempDir()
	w := open(t, Config{Dir: dir, Name: "c.log", MaxSize: 8 << 10, QueueLen: writers * lines,
		Now: testclock.New(jan2).Now})
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < lines; i++ {
				var err error
				switch i % 3 {
				case 0:
					err = w.WriteLine(fmt.Sprintf("w%d %d", g, i))
				case 1:
					_, err = fmt.Fprintf(w, "w%d %d\n", g, i)
				default:
					err = w.WriteEntry(bytesLine(fmt.Sprintf("w%d %d", g, i)))
				}
				if err != nil {
					t.Error(err)
					return
				}
				if i%500 == 0 {
					w.Stats()
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s := w.Stats()
	if s.Dropped != 0 || s.Written != writers*lines || s.Rotations == 0 {
		t.Fatalf("stats %+v", s)
	}
	var all bytes.Buffer
	for n := 1; n <= int(s.Rotations); n++ {
		got, _ := gunzip(t, filepath.Join(dir, fmt.Sprintf("c/2026/Jan/c.log-02_%d.gz", n)))
		all.WriteString(got)
	}
	all.WriteString(read(t, filepath.Join(dir, "c.log")))
	next := make([]int, writers)
	for _, l := range strings.Split(strings.TrimSuffix(all.String(), "\n"), "\n") {
		var g, i int
		if _, err := fmt.Sscanf(l, "w%d %d", &g, &i); err != nil || g < 0 || g >= writers {
			t.Fatalf("bad line %q", l)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d after %d", g, i, next[g]-1)
		}
		next[g]++
	}
	for g, n := range next {
		if n != lines {
			t.Errorf("writer %d: %d lines", g, n)
		}
	}
}

func TestWritesRacingClose(t *testing.T) {
	w := open(t, Config{Dir: t.TempDir(), Name: "r.log", QueueLen: 16})
	var wg sync.WaitGroup
	var accepted atomic.Uint64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				if w.WriteLine("x") == nil {
					accepted.Add(1)
				}
			}
		}()
	}
	w.Close()
	wg.Wait()
	s := w.Stats()
	if s.Written != accepted.Load() || s.Written+s.Dropped != 8000 {
		t.Errorf("accepted %d, stats %+v", accepted.Load(), s)
	}
}

func TestClosed(t *testing.T) {
	w := open(t, Config{Dir: t.TempDir(), Name: "a.log"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := w.WriteLine("x"); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteLine after Close: %v", err)
	}
	if err := w.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
	if w.Stats().Dropped != 1 {
		t.Errorf("stats %+v", w.Stats())
	}
}

func TestWriteCopies(t *testing.T) {
	dir := t.TempDir()
	w := open(t, Config{Dir: dir, Name: "a.log"})
	b := []byte("abc\n")
	w.Write(b)
	copy(b, "xyz")
	w.Close()
	if got := read(t, filepath.Join(dir, "a.log")); got != "abc\n" {
		t.Errorf("%q", got)
	}
}

func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []Config{{Dir: dir}, {Dir: dir, Name: "a/b"}, {Dir: dir, Name: "a", MaxSize: -1},
		{Dir: filepath.Join(dir, "f", "x"), Name: "a"}} {
		if c.Dir != dir {
			os.WriteFile(filepath.Join(dir, "f"), nil, 0o600) // a file where a folder should be
		}
		if w, err := Open(c); err == nil {
			w.Close()
			t.Errorf("%+v: no error", c)
		}
	}
}

func FuzzParsePending(f *testing.F) {
	for _, s := range []string{"api.log.2026-01-02.d00000000000000000001", "api.log.2026-13-02.s1",
		"api.log.", "api.log.2026-01-02.x1", "api.log.2026-01-02.s-1", "api.json.2026-01-02.d1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parsePending("api.log", s, time.UTC)
		if !ok {
			return
		}
		back := fmt.Sprintf("api.log.%s.", p.day.Format("2006-01-02"))
		if !strings.HasPrefix(s, back) || p.seq < 0 {
			t.Fatalf("%q parsed as %+v", s, p)
		}
	})
}
