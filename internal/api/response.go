package api

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/core"
)

const (
	contentJSON    = "application/json"
	contentProblem = "application/problem+json; charset=utf-8"
)

// securityHeaders are on every response, errors included.
var securityHeaders = [][2]string{
	{"Server", "Wazuh"},
	{"Strict-Transport-Security", "max-age=63072000; includeSubdomains"},
	{"X-Frame-Options", "deny"},
	{"X-XSS-Protection", "0"},
	{"X-Content-Type-Options", "nosniff"},
	{"Content-Security-Policy", "none"},
	{"Referrer-Policy", "no-referrer, strict-origin-when-cross-origin"},
	{"Cache-Control", "no-store"},
}

// writeJSON sends a 200 JSON body.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	body, err := encode(v, isPretty(r, false))
	if err != nil {
		writeError(w, r, core.Internal(err))
		return
	}
	w.Header().Set("Content-Type", contentJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// isPretty reads the pretty flag: successes accept any case of "true",
// errors only the exact lower-case word, as Wazuh does.
func isPretty(r *http.Request, strict bool) bool {
	v, ok := parseQuery(r.URL.RawQuery)["pretty"]
	if !ok || len(v) == 0 {
		return false
	}
	if strict {
		return v[0] == "true"
	}
	return strings.EqualFold(v[0], "true")
}

// data is the {"data": ..., "error": 0} envelope.
type data struct {
	Data  any `json:"data"`
	Error int `json:"error"`
}

// dataMessage is the {"data": ..., "message": ..., "error": 0} envelope.
type dataMessage struct {
	Data    any    `json:"data"`
	Message string `json:"message"`
	Error   int    `json:"error"`
}

func (d data) object() Object { return Object{{"data", d.Data}, {"error", d.Error}} }

func (d dataMessage) object() Object {
	return Object{{"data", d.Data}, {"message", d.Message}, {"error", d.Error}}
}

func (m message) object() Object { return Object{{"message", m.Message}, {"error", m.Error}} }

// message is the {"message": ..., "error": 0} envelope.
type message struct {
	Message string `json:"message"`
	Error   int    `json:"error"`
}

type failedItem struct {
	Error failedError `json:"error"`
	ID    []any       `json:"id"`
}

type failedError struct {
	Code        int    `json:"code"`
	Message     string `json:"message"`
	Remediation string `json:"remediation,omitempty"`
}

type affectedData struct {
	AffectedItems      []any        `json:"affected_items"`
	TotalAffectedItems int          `json:"total_affected_items"`
	TotalFailedItems   int          `json:"total_failed_items"`
	FailedItems        []failedItem `json:"failed_items"`
}

// writeBulk renders a core.Bulk as Wazuh's affected-items envelope.
func writeBulk(w http.ResponseWriter, r *http.Request, b *core.Bulk) {
	writeJSON(w, r, bulkObject(b))
}

// bulkObject renders a core.Bulk as Wazuh's affected-items envelope.
func bulkObject(b *core.Bulk) Object {
	items := b.Affected
	if items == nil {
		items = []any{}
	}
	failed := []any{}
	for _, g := range b.FailedGroups() {
		e := Object{{"code", g.Err.Code}, {"message", g.Err.Detail}}
		if g.Err.Remediation != "" {
			e = append(e, Field{"remediation", g.Err.Remediation})
		}
		failed = append(failed, Object{{"error", e}, {"id", g.IDs}})
	}
	msg, code := b.Message()
	return Object{
		{"data", Object{{"affected_items", items}, {"total_affected_items", b.AffectedCount()},
			{"total_failed_items", b.FailedCount()}, {"failed_items", failed}}},
		{"message", msg}, {"error", code}}
}

// writeRaw sends an already encoded 200 JSON body.
func writeRaw(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", contentJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

var titles = map[int]string{
	400: "Bad Request", 401: "Unauthorized", 403: "Permission Denied", 404: "Resource Not Found",
	405: "Method Not Allowed", 406: "Not Acceptable", 413: "Request Entity Too Large",
	415: "Unsupported Media Type", 417: "Expectation failed", 429: "Too Many Requests",
	500: "Wazuh Internal Error", 501: "Not Implemented",
}

var spaces = regexp.MustCompile(`\s+`)

// normalizeDetail applies Wazuh's whitespace rules to a detail message.
func normalizeDetail(s string) string {
	s = strings.ReplaceAll(s, "\n\n", ". ")
	s = strings.ReplaceAll(s, "\n", "")
	return spaces.ReplaceAllString(s, " ")
}

// writeError renders any error as Wazuh's problem+json body.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := core.AsError(err)
	status := e.HTTPStatus()
	title := e.Title
	if title == "" {
		title = titles[status]
		if title == "" {
			title = http.StatusText(status)
		}
	}
	if e.Err != nil || e.Code == 1000 {
		if s := serverFrom(r); s != nil {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", e)
		}
	}
	detail := normalizeDetail(e.Detail)
	body := Object{{"title", title}, {"detail", detail}}
	if e.Remediation != "" {
		body = append(body, Field{"remediation", e.Remediation})
	}
	if e.Code != 0 && !e.Local {
		node := e.Node
		if node == "" {
			node = nodeName(r)
		}
		inner := Object{{"error", detail}}
		if status >= 500 {
			inner = append(inner, Field{"logfile", "WAZUH_HOME/logs/api.log"})
		}
		body = append(body, Field{"dapi_errors", Object{{node, inner}}})
	}
	if e.Code != 0 {
		body = append(body, Field{"error", e.Code})
	}
	out, _ := encode(body, isPretty(r, true))
	w.Header().Set("Content-Type", contentProblem)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	w.Write(out)
}
