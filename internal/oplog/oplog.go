// Package oplog is muster's operational log in the line format of Wazuh's
// ossec.log ("2026/12/07 16:40:01 wazuh-remoted: INFO: message"), so the
// tools that read ossec.log, and GET /manager/logs, read muster's. A
// record's daemon tag comes from its "daemon" attribute; the record's other
// attributes follow the message as key=value pairs.
package oplog

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DaemonKey is the attribute naming the Wazuh daemon a record belongs to.
const DaemonKey = "daemon"

// DefaultDaemon tags records that name none: the process serving the API.
const DefaultDaemon = "wazuh-apid"

// LevelCritical is above slog's levels; it is written CRITICAL.
const LevelCritical = slog.LevelError + 4

// Handler writes records as ossec.log lines to w, one write per line.
type Handler struct {
	w      io.Writer
	level  slog.Leveler
	now    func() time.Time // for records without a time
	daemon string
	attrs  []byte // pre-formatted " key=value" pairs of With
	group  string
	mu     *sync.Mutex
}

// NewHandler returns a handler writing records at level or above to w.
func NewHandler(w io.Writer, level slog.Leveler) *Handler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &Handler{w: w, level: level, now: time.Now, daemon: DefaultDaemon, mu: &sync.Mutex{}}
}

func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]byte(nil), h.attrs...)
	for _, a := range as {
		if a.Key == DaemonKey && h.group == "" {
			c.daemon = a.Value.String()
			continue
		}
		c.attrs = appendAttr(c.attrs, h.group, a)
	}
	return &c
}

func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = joinKey(h.group, name)
	return &c
}

func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	t := r.Time
	if t.IsZero() {
		t = h.now()
	}
	daemon := h.daemon
	attrs := h.attrs
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == DaemonKey && h.group == "" {
			daemon = a.Value.String()
			return true
		}
		attrs = appendAttr(attrs, h.group, a)
		return true
	})
	b := make([]byte, 0, 128+len(r.Message)+len(attrs))
	b = t.Local().AppendFormat(b, "2006/01/02 15:04:05")
	b = append(b, ' ')
	b = append(b, oneLine(daemon)...)
	b = append(b, ": "...)
	b = append(b, levelName(r.Level)...)
	b = append(b, ": "...)
	b = append(b, oneLine(r.Message)...)
	b = append(b, attrs...)
	b = append(b, '\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(b)
	return err
}

func levelName(l slog.Level) string {
	switch {
	case l >= LevelCritical:
		return "CRITICAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}

func joinKey(group, key string) string {
	if group == "" {
		return key
	}
	return group + "." + key
}

func appendAttr(b []byte, group string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b
	}
	if a.Value.Kind() == slog.KindGroup {
		g := joinKey(group, a.Key)
		for _, sub := range a.Value.Group() {
			b = appendAttr(b, g, sub)
		}
		return b
	}
	b = append(b, ' ')
	b = append(b, oneLine(joinKey(group, a.Key))...)
	b = append(b, '=')
	v := a.Value.String()
	if a.Value.Kind() == slog.KindTime {
		v = a.Value.Time().Format(time.RFC3339)
	}
	if v == "" || strings.ContainsAny(v, " \"=\n\r\t") {
		return strconv.AppendQuote(b, v)
	}
	return append(b, v...)
}

// oneLine keeps a record on one line: a line break would start a line
// that ossec.log readers cannot attribute.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// Tee sends every record to each handler.
func Tee(hs ...slog.Handler) slog.Handler { return tee(hs) }

type tee []slog.Handler

func (t tee) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t tee) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (t tee) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(tee, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (t tee) WithGroup(name string) slog.Handler {
	out := make(tee, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(name)
	}
	return out
}

// Entry is one parsed ossec.log line.
type Entry struct {
	Time        time.Time
	Tag         string
	Level       string // lower case: debug, info, warning, error, critical
	Description string // the text after "LEVEL:", its leading space kept as Wazuh does
}

// lineRe is the shape of an ossec.log line; a tag may carry a "[...]" suffix.
var lineRe = regexp.MustCompile(`^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) (\S+?)(?:\[.*)?: (DEBUG|INFO|CRITICAL|ERROR|WARNING):(.*)$`)

// Parse reads one line; ok is false for a line that is not a log record
// (the continuation of a multi-line message, say). Times are local.
func Parse(line string) (Entry, bool) {
	m := lineRe.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
	if m == nil {
		return Entry{}, false
	}
	t, err := time.ParseInLocation("2006/01/02 15:04:05", m[1], time.Local)
	if err != nil {
		return Entry{}, false
	}
	tag := m[2]
	if strings.Contains(tag, "rootcheck") {
		tag = "wazuh-rootcheck"
	}
	return Entry{Time: t, Tag: tag, Level: strings.ToLower(m[3]), Description: m[4]}, true
}

// maxLine bounds a line read back; a longer one is skipped.
const maxLine = 64 << 10

// Tail returns up to n of the last lines of the file, oldest first.
func Tail(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// Read backwards in blocks until n line breaks are seen.
	const block = 64 << 10
	size := st.Size()
	start := size
	lines := 0
	buf := make([]byte, block)
	for start > 0 && lines <= n {
		step := min(int64(block), start)
		start -= step
		if _, err := f.ReadAt(buf[:step], start); err != nil && err != io.EOF {
			return nil, err
		}
		lines += strings.Count(string(buf[:step]), "\n")
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return nil, err
	}
	rd := bufio.NewReaderSize(f, 4096)
	var out []string
	first := start > 0 // the first line read may be a partial one
	var long []byte
	for {
		part, more, err := rd.ReadLine()
		if err != nil {
			break
		}
		if more || long != nil { // a line longer than the buffer
			if len(long) < maxLine {
				long = append(long, part...)
			}
			if more {
				continue
			}
			part, long = long, nil
			if len(part) >= maxLine {
				continue // too long to be a record: skipped
			}
		}
		if first {
			first = false
			continue
		}
		out = append(out, string(part))
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}
