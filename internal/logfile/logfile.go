// Package logfile appends lines to a log file without making the caller
// wait for the disk: lines go into a bounded queue that one goroutine drains
// into the file, rotating it at midnight and, when enabled, by size, and
// gzip-compressing each rotated file into Wazuh's dated folders in another
// goroutine. When the queue is full (a slow or stuck disk) or a write fails
// (a full disk), the line is dropped and counted, and the episode is
// reported once, through Config.OnEvent, when it starts and when it ends.
//
// Where the rotated files go (Wazuh 4.14.7, framework/wazuh/core/wlogging.py,
// used for api.log and api.json by api/api/alogging.py): a file logs/NAME
// (say api.log or api.json) is archived under logs/STEM/YEAR/Mon/, STEM being
// NAME without its extension, so api.log and api.json share logs/api/. The
// year has four digits and the month is its English three-letter abbreviation
// (Jan ... Dec). A daily rotation of the day DD is NAME-DD.gz (api.log-07.gz,
// api.json-07.gz), DD being the day the lines were written, i.e. the day that
// just ended. A size rotation is NAME-DD_N.gz with DD today's day and N the
// lowest number from 1 not yet taken that day (api.log-07_1.gz,
// api.log-07_2.gz, ...). Wazuh rotates the API log either by size (when
// logs.max_size is enabled) or at midnight, not both; this package can do
// both, and the caller chooses. The operational log, ossec.log, uses another
// layout in Wazuh (monitord): a different Config.Archive.
package logfile

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrQueueFull is the cause of lines dropped because the writer goroutine
// could not keep up (a slow or stuck disk).
var ErrQueueFull = errors.New("queue full")

// ErrClosed is returned for lines written after Close.
var ErrClosed = errors.New("log file closed")

// File is what the writer needs of an open log file; *os.File is one.
type File interface {
	io.WriteCloser
	Stat() (os.FileInfo, error)
}

// Entry is a queued line, formatted by the writer goroutine so the caller
// pays only for copying what it needs. AppendLine appends the line to dst;
// a missing final newline is added.
type Entry interface {
	AppendLine(dst []byte) []byte
}

// Timed is an Entry that carries its own time (say, a request's), which
// then decides its file instead of a clock read when it is queued.
type Timed interface {
	Entry
	Time() time.Time
}

// item is a queued entry and its time: a line belongs to the file of the
// day it was stamped, not of the moment the disk got to it.
type item struct {
	e Entry
	t time.Time
}

// Event reports an episode of dropped lines: once when it starts (Ended
// false, Dropped the lines dropped so far) and once when lines are written
// again (Ended true, Dropped the lines lost during the episode). Err is
// ErrQueueFull or the write error (e.g. ENOSPC: errors.Is(err,
// syscall.ENOSPC)). A failed compression is reported with Dropped 0: the
// rotated file stays uncompressed and is retried at the next rotation.
type Event struct {
	File    string // the log file's name
	Err     error
	Dropped uint64
	Ended   bool
}

// Stats are the writer's counters, for metrics.
type Stats struct {
	File      string // the log file's name
	Written   uint64 // lines written whole
	Dropped   uint64 // lines lost: queue full, write error or after Close
	Rotations uint64 // rotations done (by day and by size)
}

// Config says where the log goes and how it rotates.
type Config struct {
	Dir, Name string
	// Daily rotates at the first line of a later day (in the time zone of
	// Now's times), like a midnight rotation without a timer. A line stamped
	// before the current file's day (a late line, or the clock set back)
	// goes into the current file.
	Daily bool
	// MaxSize rotates before a line would take the file past this many bytes;
	// 0 disables size rotation.
	MaxSize int64
	// QueueLen bounds the lines waiting for the disk (default 4096).
	QueueLen int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Open opens the log file for appending (default: os.OpenFile with
	// O_APPEND|O_CREATE, mode 0600). Tests inject a failing or stuck disk.
	Open func(path string) (File, error)
	// Archive names a rotated file, relative to Dir: n is 0 for a daily
	// rotation of the day day, and 1, 2, ... for the size rotations of the
	// day day (the first n whose file does not exist is used). Default
	// WazuhArchive(Name).
	Archive func(day time.Time, n int) string
	// OnEvent hears of drop episodes and compression failures; it is called
	// from its own goroutine, so a slow handler delays nothing but itself.
	OnEvent func(Event)
	// DrainTimeout bounds Close (default 5s).
	DrainTimeout time.Duration
}

// WazuhArchive is the layout Wazuh's Python daemons (the API) use for a log
// file called name: see the package comment.
func WazuhArchive(name string) func(day time.Time, n int) string {
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	return func(day time.Time, n int) string {
		dir := filepath.Join(stem, strconv.Itoa(day.Year()), day.Month().String()[:3])
		if n == 0 {
			return filepath.Join(dir, fmt.Sprintf("%s-%02d.gz", name, day.Day()))
		}
		return filepath.Join(dir, fmt.Sprintf("%s-%02d_%d.gz", name, day.Day(), n))
	}
}

const batchMax = 64 << 10 // bytes gathered into one write

// Writer is a log file written by one goroutine. Its methods are safe for
// concurrent use.
type Writer struct {
	cfg  Config
	path string

	q        chan item
	closed   atomic.Bool
	inflight atomic.Int64 // Write calls between their closed check and their send

	written, dropped, rotations atomic.Uint64
	qFull                       atomic.Bool   // a queue-full episode is on
	qDropped                    atomic.Uint64 // lines dropped in it

	stop, runDone   chan struct{}
	kick            chan chan struct{} // to the compressor; nil: just look
	compStop        chan struct{}
	compDone        chan struct{}
	events          chan Event
	repStop         chan struct{}
	repDone         chan struct{}
	closeOnce       sync.Once
	closeErr        error
	compressRunning sync.Mutex // one compression pass at a time

	// owned by the writer goroutine
	f       File
	size    int64
	day     time.Time // the day the current file's lines belong to
	buf     []byte
	ends    []int // ends of the lines in buf
	partial bool  // the file ends in a partly written line
	errOn   bool  // a write-error episode is on
	errN    uint64
	errLast error
	seq     int64
}

// Open creates dir (mode 0700) and opens (appending) or creates dir/name
// (mode 0600), then starts the writer. Rotated files left uncompressed by an
// earlier run are compressed now.
func Open(cfg Config) (*Writer, error) {
	if cfg.Name == "" || strings.ContainsAny(cfg.Name, `/\`) {
		return nil, fmt.Errorf("logfile: bad file name %q", cfg.Name)
	}
	if cfg.MaxSize < 0 {
		return nil, fmt.Errorf("logfile: negative max size %d", cfg.MaxSize)
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Open == nil {
		cfg.Open = func(p string) (File, error) {
			return os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		}
	}
	if cfg.Archive == nil {
		cfg.Archive = WazuhArchive(cfg.Name)
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 5 * time.Second
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("logfile: %w", err)
	}
	w := &Writer{cfg: cfg, path: filepath.Join(cfg.Dir, cfg.Name),
		q: make(chan item, cfg.QueueLen), stop: make(chan struct{}), runDone: make(chan struct{}),
		kick: make(chan chan struct{}, 1), compStop: make(chan struct{}), compDone: make(chan struct{}),
		events: make(chan Event, 16), repStop: make(chan struct{}), repDone: make(chan struct{})}
	f, err := cfg.Open(w.path)
	if err != nil {
		return nil, fmt.Errorf("logfile: %w", err)
	}
	now := cfg.Now()
	w.f, w.day = f, now
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		w.size = st.Size()
		// A file left from an earlier day is rotated as that day's file at
		// the first line, like Wazuh's midnight rotation after a restart.
		if w.size > 0 && st.ModTime().Before(startOfDay(now)) {
			w.day = st.ModTime().In(now.Location())
		}
	}
	go w.run()
	go w.compressor()
	if cfg.OnEvent != nil {
		go w.reporter()
	} else {
		close(w.repDone)
	}
	w.kick <- nil // leftovers of an earlier run
	return w, nil
}

// WriteEntry queues e, or drops and counts it when the queue is full or the
// writer closed. It never blocks.
func (w *Writer) WriteEntry(e Entry) error {
	w.inflight.Add(1)
	defer w.inflight.Add(-1)
	if w.closed.Load() {
		w.dropped.Add(1)
		return ErrClosed
	}
	it := item{e: e}
	if te, ok := e.(Timed); ok {
		it.t = te.Time()
	} else {
		it.t = w.cfg.Now()
	}
	select {
	case w.q <- it:
		return nil
	default:
	}
	w.dropped.Add(1)
	w.qDropped.Add(1)
	if !w.qFull.Load() && w.qFull.CompareAndSwap(false, true) {
		w.emit(Event{Err: ErrQueueFull, Dropped: 1})
	}
	return ErrQueueFull
}

// Write queues a copy of p as one entry (io.Writer, e.g. for slog). It
// never blocks; a dropped p returns 0 and ErrQueueFull or ErrClosed.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.WriteEntry(bytesLine(append([]byte(nil), p...))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteLine queues s; a newline is added if s lacks one. It never blocks.
func (w *Writer) WriteLine(s string) error { return w.WriteEntry(stringLine(s)) }

type bytesLine []byte

func (b bytesLine) AppendLine(dst []byte) []byte { return append(dst, b...) }

type stringLine string

func (s stringLine) AppendLine(dst []byte) []byte { return append(dst, s...) }

// flushMark travels the queue; the writer closes done when it gets there.
type flushMark struct{ done chan struct{} }

func (*flushMark) AppendLine(dst []byte) []byte { return dst }

// Stats returns the counters.
func (w *Writer) Stats() Stats {
	return Stats{File: w.cfg.Name, Written: w.written.Load(), Dropped: w.dropped.Load(),
		Rotations: w.rotations.Load()}
}

// Flush waits until the lines queued before it are written and the rotated
// files compressed, or ctx ends.
func (w *Writer) Flush(ctx context.Context) error {
	if w.closed.Load() {
		return ErrClosed
	}
	m := &flushMark{done: make(chan struct{})}
	select {
	case w.q <- item{e: m}:
	case <-w.runDone:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-m.done:
	case <-w.runDone: // closed meanwhile: the drain wrote the lines before m
	case <-ctx.Done():
		return ctx.Err()
	}
	ack := make(chan struct{})
	select {
	case w.kick <- ack:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued, compresses what was rotated and closes the
// file, waiting at most Config.DrainTimeout; later lines are dropped. When
// the disk does not let it finish in time, Close says how many lines were
// still queued; they are written if the disk comes back.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		w.closed.Store(true)
		for w.inflight.Load() != 0 { // sends already past their check are non-blocking
			runtime.Gosched()
		}
		deadline := time.NewTimer(w.cfg.DrainTimeout)
		defer deadline.Stop()
		close(w.stop)
		for _, step := range []struct {
			stop, done chan struct{}
		}{{nil, w.runDone}, {w.compStop, w.compDone}, {w.repStop, w.repDone}} {
			if step.stop != nil {
				close(step.stop)
			}
			select {
			case <-step.done:
			case <-deadline.C:
				w.closeErr = fmt.Errorf("logfile %s: not drained in %v (%d lines still queued)",
					w.cfg.Name, w.cfg.DrainTimeout, len(w.q))
				return
			}
		}
	})
	return w.closeErr
}

func (w *Writer) emit(e Event) {
	if w.cfg.OnEvent == nil {
		return
	}
	e.File = w.cfg.Name
	select {
	case w.events <- e:
	default: // the handler is behind; the counters still tell
	}
}

func (w *Writer) reporter() {
	defer close(w.repDone)
	for {
		select {
		case e := <-w.events:
			w.cfg.OnEvent(e)
		case <-w.repStop:
			for {
				select {
				case e := <-w.events:
					w.cfg.OnEvent(e)
				default:
					return
				}
			}
		}
	}
}

func (w *Writer) run() {
	defer close(w.runDone)
	defer func() {
		if w.f != nil {
			w.f.Close()
		}
	}()
	for {
		var e item
		select {
		case e = <-w.q:
		case <-w.stop:
			for {
				select {
				case e = <-w.q:
					w.add(e)
				default:
					w.writeOut()
					w.endQueueEpisode()
					return
				}
			}
		}
		w.add(e)
	gather:
		for len(w.buf) < batchMax {
			select {
			case e = <-w.q:
				w.add(e)
			default:
				break gather
			}
		}
		w.writeOut()
		if len(w.q) == 0 {
			w.endQueueEpisode()
		}
	}
}

func (w *Writer) endQueueEpisode() {
	if w.qFull.Load() {
		w.qFull.Store(false)
		w.emit(Event{Err: ErrQueueFull, Dropped: w.qDropped.Swap(0), Ended: true})
	}
}

// add formats e into the batch, rotating first when e's line is due in a
// new file.
func (w *Writer) add(it item) {
	e := it.e
	if m, ok := e.(*flushMark); ok {
		w.writeOut()
		close(m.done)
		return
	}
	start := len(w.buf)
	w.buf = e.AppendLine(w.buf)
	if len(w.buf) == start {
		return
	}
	if w.buf[len(w.buf)-1] != '\n' {
		w.buf = append(w.buf, '\n')
	}
	n := len(w.buf) - start
	now := it.t
	cur := w.size + int64(start)
	var kind byte
	var day time.Time
	switch {
	case w.cfg.Daily && laterDay(now, w.day) && cur == 0:
		w.day = now // nothing to archive
	case w.cfg.Daily && laterDay(now, w.day):
		kind, day = 'd', w.day
	case w.cfg.MaxSize > 0 && cur > 0 && cur+int64(n) > w.cfg.MaxSize:
		kind, day = 's', now
	}
	if kind != 0 {
		line := append([]byte(nil), w.buf[start:]...)
		w.buf = w.buf[:start]
		w.writeOut()
		w.rotate(kind, day, now)
		w.buf = append(w.buf[:0], line...)
	}
	w.ends = append(w.ends, len(w.buf))
}

// writeOut writes the batch, counting the lines written whole and dropping
// the rest on an error.
func (w *Writer) writeOut() {
	if len(w.buf) == 0 {
		return
	}
	defer func() { w.buf, w.ends = w.buf[:0], w.ends[:0] }()
	if w.f == nil {
		if err := w.open(); err != nil {
			w.failed(uint64(len(w.ends)), err)
			return
		}
	}
	if w.partial {
		if _, err := w.f.Write([]byte{'\n'}); err != nil {
			w.failed(uint64(len(w.ends)), err)
			return
		}
		w.partial = false
		w.size++
	}
	n, err := w.f.Write(w.buf)
	w.size += int64(n)
	whole := sort.SearchInts(w.ends, n+1) // lines ending at or before n
	w.written.Add(uint64(whole))
	if err != nil {
		if n > 0 && (whole == 0 || w.ends[whole-1] != n) {
			w.partial = true
		}
		w.failed(uint64(len(w.ends)-whole), err)
		return
	}
	if w.errOn {
		w.errOn = false
		w.emit(Event{Err: w.errLast, Dropped: w.errN, Ended: true})
	}
}

func (w *Writer) failed(lines uint64, err error) {
	w.dropped.Add(lines)
	w.errN += lines
	w.errLast = err
	if !w.errOn {
		w.errOn, w.errN = true, lines
		w.emit(Event{Err: err, Dropped: lines})
	}
}

// rotate renames the file to a pending name that records its day and kind,
// opens a new one and leaves the compression to the compressor.
func (w *Writer) rotate(kind byte, day, now time.Time) {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	seq := now.UnixNano()
	if seq <= w.seq {
		seq = w.seq + 1
	}
	w.seq = seq
	pending := fmt.Sprintf("%s.%s.%c%020d", w.path, day.Format("2006-01-02"), kind, seq)
	if err := os.Rename(w.path, pending); err != nil {
		w.emit(Event{Err: fmt.Errorf("rotate: %w", err)})
	} else {
		w.rotations.Add(1)
	}
	w.day, w.size = now, 0
	w.open() // on an error writeOut tries again
	select {
	case w.kick <- nil:
	default: // a pass is already due; it will see this file
	}
}

func (w *Writer) open() error {
	f, err := w.cfg.Open(w.path)
	if err != nil {
		return err
	}
	w.f, w.size = f, 0
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		w.size = st.Size()
	}
	return nil
}

func (w *Writer) compressor() {
	defer close(w.compDone)
	for {
		select {
		case ack := <-w.kick:
			w.compressPending()
			if ack != nil {
				close(ack)
			}
		case <-w.compStop:
			w.compressPending()
			return
		}
	}
}

type pendingFile struct {
	path  string
	day   time.Time
	daily bool
	seq   int64
}

// compressPending compresses every rotated file still waiting, oldest first
// so that the size rotations of a day are numbered in order.
func (w *Writer) compressPending() {
	w.compressRunning.Lock()
	defer w.compressRunning.Unlock()
	des, err := os.ReadDir(w.cfg.Dir)
	if err != nil {
		w.emit(Event{Err: fmt.Errorf("compress: %w", err)})
		return
	}
	loc := w.cfg.Now().Location()
	var todo []pendingFile
	for _, de := range des {
		if p, ok := parsePending(w.cfg.Name, de.Name(), loc); ok {
			p.path = filepath.Join(w.cfg.Dir, de.Name())
			todo = append(todo, p)
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].seq < todo[j].seq })
	for _, p := range todo {
		if err := w.compress(p); err != nil {
			w.emit(Event{Err: fmt.Errorf("compress %s: %w", filepath.Base(p.path), err)})
		}
	}
}

// parsePending reads NAME.YYYY-MM-DD.{d,s}SEQ.
func parsePending(name, file string, loc *time.Location) (pendingFile, bool) {
	rest, ok := strings.CutPrefix(file, name+".")
	if !ok || len(rest) < 12 || rest[10] != '.' {
		return pendingFile{}, false
	}
	day, err := time.ParseInLocation("2006-01-02", rest[:10], loc)
	if err != nil || (rest[11] != 'd' && rest[11] != 's') {
		return pendingFile{}, false
	}
	seq, err := strconv.ParseInt(rest[12:], 10, 64)
	if err != nil || seq < 0 {
		return pendingFile{}, false
	}
	return pendingFile{day: day, daily: rest[11] == 'd', seq: seq}, true
}

func (w *Writer) compress(p pendingFile) error {
	var target string
	exists := false
	for n := 0; ; {
		if !p.daily {
			n++
		}
		target = filepath.Join(w.cfg.Dir, w.cfg.Archive(p.day, n))
		_, err := os.Lstat(target)
		exists = err == nil
		if p.daily || !exists {
			break
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	src, err := os.Open(p.path)
	if err != nil {
		return err
	}
	defer src.Close()
	// A new archive is written aside and renamed, so none is ever half
	// made. A second daily rotation of one day (the clock went back) appends
	// a gzip member instead: readers see both files' lines in order.
	dst, flag := target+".tmp", os.O_CREATE|os.O_WRONLY|os.O_TRUNC
	if exists {
		dst, flag = target, os.O_WRONLY|os.O_APPEND
	}
	out, err := os.OpenFile(dst, flag, 0o600)
	if err != nil {
		return err
	}
	var keep int64
	if st, err := out.Stat(); err == nil {
		keep = st.Size()
	}
	gz := gzip.NewWriter(out)
	gz.Name = strings.TrimSuffix(filepath.Base(target), ".gz")
	_, err = io.Copy(gz, src)
	if err == nil {
		err = gz.Close()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && !exists {
		err = os.Rename(dst, target)
	}
	if err != nil {
		if exists {
			os.Truncate(target, keep) // drop the partial member
		} else {
			os.Remove(dst)
		}
		return err
	}
	return os.Remove(p.path)
}

// laterDay says whether a falls on a later calendar day than b, in a's
// time zone.
func laterDay(a, b time.Time) bool {
	b = b.In(a.Location())
	return a.Year() > b.Year() || a.Year() == b.Year() && a.YearDay() > b.YearDay()
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}
