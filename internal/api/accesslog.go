package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"syscall"
	"time"

	"github.com/muster-project/muster/internal/logfile"
)

// AccessLog writes one line per request in Wazuh's api.log (plain) and
// api.json (json) formats. The request path only copies what the line needs
// and queues it; a writer goroutine per file formats, writes and rotates
// (at midnight, or by size when logs.max_size is enabled, as Wazuh does),
// and archives rotated files under logs/api/<year>/<Mon>/. When the disk is
// slow or full, lines are dropped and counted instead of stalling requests,
// and the operational log says so. Secrets (passwords, agent keys) are
// masked; tokens are never written.
type AccessLog struct {
	plain, json *logfile.Writer
	now         func() time.Time
	enabled     bool
}

// OpenAccessLog opens the log files of format ("plain", "json" or both,
// comma-separated) in dir. level "disabled" (or a level above info) writes
// no request lines. maxSize > 0 rotates by size instead of daily. Drops are
// reported to log.
func OpenAccessLog(dir, format, level string, maxSize int64, now func() time.Time, log *slog.Logger) (*AccessLog, error) {
	return openAccessLog(dir, format, level, maxSize, now, log, nil)
}

// openAccessLog is OpenAccessLog with a hook on the files' configuration,
// for tests (a small queue, a failing disk).
func openAccessLog(dir, format, level string, maxSize int64, now func() time.Time, log *slog.Logger,
	tune func(*logfile.Config)) (*AccessLog, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &AccessLog{now: now, enabled: level != "disabled" && level != "warning" && level != "error"}
	open := func(name string) (*logfile.Writer, error) {
		cfg := logfile.Config{Dir: dir, Name: name, Daily: maxSize <= 0, MaxSize: maxSize, Now: now,
			OnEvent: func(e logfile.Event) { reportAccessLog(log, e) }}
		if tune != nil {
			tune(&cfg)
		}
		return logfile.Open(cfg)
	}
	var err error
	switch format {
	case "plain", "":
		l.plain, err = open("api.log")
	case "json":
		l.json, err = open("api.json")
	default: // both
		if l.plain, err = open("api.log"); err == nil {
			if l.json, err = open("api.json"); err != nil {
				l.plain.Close()
				l.plain = nil
			}
		}
	}
	return l, err
}

// reportAccessLog puts a drop episode (or a failed rotation) of the access
// log in the operational log.
func reportAccessLog(log *slog.Logger, e logfile.Event) {
	cause := e.Err.Error()
	switch {
	case errors.Is(e.Err, syscall.ENOSPC):
		cause = "disk full"
	case errors.Is(e.Err, logfile.ErrQueueFull):
		cause = "queue full, the disk is too slow"
	}
	switch {
	case e.Ended:
		log.Warn(fmt.Sprintf("access log: %d lines dropped: %s", e.Dropped, cause), "file", e.File)
	case e.Dropped > 0:
		log.Error("access log: dropping lines: "+cause, "file", e.File, "error", e.Err)
	default:
		log.Error("access log: "+cause, "file", e.File)
	}
}

// Close writes what is queued and closes the files.
func (l *AccessLog) Close() error {
	if l == nil {
		return nil
	}
	var errs []error
	for _, w := range []*logfile.Writer{l.plain, l.json} {
		if w != nil {
			errs = append(errs, w.Close())
		}
	}
	return errors.Join(errs...)
}

// Stats returns the counters of each file (api.log, api.json), for metrics.
func (l *AccessLog) Stats() []logfile.Stats {
	if l == nil {
		return nil
	}
	var out []logfile.Stats
	for _, w := range []*logfile.Writer{l.plain, l.json} {
		if w != nil {
			out = append(out, w.Stats())
		}
	}
	return out
}

// accessEntry is what a line needs of a finished request; the writer
// goroutines format it. body is the request's parsed JSON, which nothing
// changes once the handler is done.
type accessEntry struct {
	ts                                       time.Time
	method, path, rawQuery, ip, user, ctxSum string
	status                                   int
	elapsed                                  time.Duration
	body                                     any
}

// plainEntry and jsonEntry are one entry seen by each file's writer.
type (
	plainEntry accessEntry
	jsonEntry  accessEntry
)

// Request logs one finished request.
func (l *AccessLog) Request(r *http.Request, rec *recorder, ip string, elapsed time.Duration) {
	if l == nil || !l.enabled {
		return
	}
	e := &accessEntry{ts: l.now(), method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, ip: ip,
		user: rec.user, ctxSum: rec.ctxSum, status: rec.status, elapsed: elapsed, body: rec.body}
	if l.plain != nil {
		l.plain.WriteEntry((*plainEntry)(e))
	}
	if l.json != nil {
		l.json.WriteEntry((*jsonEntry)(e))
	}
}

func (e *plainEntry) Time() time.Time { return e.ts }
func (e *jsonEntry) Time() time.Time  { return e.ts }

// fields are the parts both formats share.
func (e *accessEntry) fields() (user string, query map[string]string, body any, secs string) {
	user = e.user
	if user == "" {
		user = "unknown_user"
	}
	query = map[string]string{}
	for k, v := range parseQuery(e.rawQuery) {
		query[k] = v[len(v)-1]
	}
	if _, ok := query["password"]; ok {
		query["password"] = "****"
	}
	return user, query, maskBody(e.body, e.path), fmt.Sprintf("%.3fs", e.elapsed.Seconds())
}

func (pe *plainEntry) AppendLine(dst []byte) []byte {
	e := (*accessEntry)(pe)
	user, query, body, secs := e.fields()
	qj, _ := json.Marshal(query)
	bj, _ := json.Marshal(body)
	who := user
	if e.ctxSum != "" {
		who = user + " (" + e.ctxSum + ")"
	}
	return fmt.Appendf(dst, "%s INFO: %s %s \"%s %s\" with parameters %s and body %s done in %s: %d\n",
		e.ts.Format("2006/01/02 15:04:05"), who, e.ip, e.method, e.path, pythonSpacing(qj), pythonSpacing(bj),
		secs, e.status)
}

func (je *jsonEntry) AppendLine(dst []byte) []byte {
	e := (*accessEntry)(je)
	user, query, body, secs := e.fields()
	payload := Object{{"user", user}, {"ip", e.ip}, {"http_method", e.method},
		{"uri", e.method + " " + e.path}, {"parameters", query}, {"body", body},
		{"time", secs}, {"status_code", e.status}}
	if e.ctxSum != "" {
		payload = append(payload, Field{"hash_auth_context", e.ctxSum})
	}
	entry := Object{{"timestamp", e.ts.Format("2006/01/02 15:04:05")}, {"levelname", "INFO"},
		{"data", Object{{"type", "request"}, {"payload", payload}}}}
	b, _ := json.Marshal(entry)
	return append(append(dst, b...), '\n')
}

// maskBody hides secrets in a logged body.
func maskBody(body any, path string) any {
	m, ok := body.(map[string]any)
	if !ok {
		if body == nil {
			return map[string]any{}
		}
		return body
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	if _, ok := out["password"]; ok {
		out["password"] = "****"
	}
	if _, ok := out["key"]; ok && len(path) >= 7 && path[:7] == "/agents" {
		out["key"] = "****"
	}
	return out
}
