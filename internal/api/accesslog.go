package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// AccessLog writes one line per request in Wazuh's api.log (plain) and
// api.json (json) formats, rotating a file when it passes maxSize bytes.
// Secrets (passwords, agent keys) are masked; tokens are never written.
type AccessLog struct {
	mu      sync.Mutex
	plain   *logFile
	json    *logFile
	now     func() time.Time
	enabled bool
}

type logFile struct {
	path    string
	f       *os.File
	size    int64
	maxSize int64
}

// OpenAccessLog opens the log files of format ("plain", "json" or both,
// comma-separated) in dir. level "disabled" writes nothing.
func OpenAccessLog(dir, format, level string, maxSize int64, now func() time.Time) (*AccessLog, error) {
	l := &AccessLog{now: now, enabled: level != "disabled" && level != "warning" && level != "error"}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	open := func(name string) (*logFile, error) {
		p := filepath.Join(dir, name)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		return &logFile{path: p, f: f, size: st.Size(), maxSize: maxSize}, nil
	}
	var err error
	switch format {
	case "plain", "":
		l.plain, err = open("api.log")
	case "json":
		l.json, err = open("api.json")
	default: // both
		if l.plain, err = open("api.log"); err == nil {
			l.json, err = open("api.json")
		}
	}
	return l, err
}

// Close closes the files.
func (l *AccessLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range []*logFile{l.plain, l.json} {
		if f != nil {
			f.f.Close()
		}
	}
	return nil
}

func (lf *logFile) write(b []byte) {
	if lf.maxSize > 0 && lf.size+int64(len(b)) > lf.maxSize {
		lf.f.Close()
		os.Rename(lf.path, lf.path+"."+time.Now().UTC().Format("20060102T150405"))
		f, err := os.OpenFile(lf.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return
		}
		lf.f, lf.size = f, 0
	}
	n, _ := lf.f.Write(b)
	lf.size += int64(n)
}

// Request logs one finished request.
func (l *AccessLog) Request(r *http.Request, rec *recorder, ip string, elapsed time.Duration) {
	if l == nil || !l.enabled {
		return
	}
	user := rec.user
	if user == "" {
		user = "unknown_user"
	}
	query := map[string]string{}
	for k, v := range parseQuery(r.URL.RawQuery) {
		query[k] = v[len(v)-1]
	}
	if _, ok := query["password"]; ok {
		query["password"] = "****"
	}
	body := maskBody(rec.body, r.URL.Path)
	qj, _ := json.Marshal(query)
	bj, _ := json.Marshal(body)
	status := rec.status
	ts := l.now()
	who := user
	if rec.ctxSum != "" {
		who = user + " (" + rec.ctxSum + ")"
	}
	secs := fmt.Sprintf("%.3fs", elapsed.Seconds())
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.plain != nil {
		line := fmt.Sprintf("%s INFO: %s %s \"%s %s\" with parameters %s and body %s done in %s: %d\n",
			ts.Format("2006/01/02 15:04:05"), who, ip, r.Method, r.URL.Path, pySpaced(qj), pySpaced(bj), secs, status)
		l.plain.write([]byte(line))
	}
	if l.json != nil {
		payload := Object{{"user", user}, {"ip", ip}, {"http_method", r.Method},
			{"uri", r.Method + " " + r.URL.Path}, {"parameters", query}, {"body", body},
			{"time", secs}, {"status_code", status}}
		if rec.ctxSum != "" {
			payload = append(payload, Field{"hash_auth_context", rec.ctxSum})
		}
		entry := Object{{"timestamp", ts.Format("2006/01/02 15:04:05")}, {"levelname", "INFO"},
			{"data", Object{{"type", "request"}, {"payload", payload}}}}
		b, _ := json.Marshal(entry)
		l.json.write(append(b, '\n'))
	}
}

func pySpaced(b []byte) string { return string(pythonSpacing(b)) }

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
