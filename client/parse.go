package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// snippetLen is how many bytes of an unexpected body an error quotes.
const snippetLen = 120

// ParseError builds an *Error from an HTTP error answer: a Wazuh problem+json
// body, another JSON shape, HTML from a proxy, text, or a truncated body.
func ParseError(method, path string, status int, contentType string, body []byte) *Error {
	e := &Error{Status: status, Method: method, Path: path, ContentType: contentType}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		e.Detail = "the response body is empty"
	case trimmed[0] == '{' || isJSONType(contentType):
		parseJSONProblem(e, trimmed)
	default:
		e.kind = kindBadResponse
		e.Detail = describeForeignBody(contentType, body)
		e.Remediation = "the answer does not come from the Wazuh API: check that the URL points at the manager's API port (55000) and not at a proxy, load balancer or the dashboard"
	}
	if e.Title == "" {
		e.Title = http.StatusText(status)
	}
	if e.Remediation == "" {
		e.Remediation = defaultRemediation(e)
	}
	return e
}

// parseJSONProblem fills e from a JSON error body, tolerating odd types.
func parseJSONProblem(e *Error, body []byte) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		e.kind = kindBadResponse
		e.Err = err
		e.Detail = fmt.Sprintf("the body is not a valid JSON object (%v); received %d bytes of %s starting with %s",
			err, len(body), orUnknown(e.ContentType), quoteSnippet(body))
		e.Remediation = "the answer was cut short or corrupted on the way: retry, and check proxies and body size limits between the client and the manager"
		return
	}
	e.Title = jsonText(m["title"])
	e.Detail = jsonText(m["detail"])
	if e.Detail == "" {
		e.Detail = jsonText(m["message"])
	}
	e.Remediation = jsonText(m["remediation"])
	e.Code = jsonInt(m["error"])
	if e.Detail == "" {
		if dapi := dapiDetail(m["dapi_errors"]); dapi != "" {
			e.Detail = dapi
		}
	}
}

// dapiDetail extracts the first node message of a dapi_errors object.
func dapiDetail(raw json.RawMessage) string {
	var nodes map[string]struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &nodes) != nil {
		return ""
	}
	for node, v := range nodes {
		if v.Error != "" {
			return v.Error + " (node " + node + ")"
		}
	}
	return ""
}

// jsonText returns a JSON string value, or the compact JSON of anything else.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return strings.ToValidUTF8(buf.String(), "\uFFFD")
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}

// jsonInt reads Wazuh's "error" code, which should be an integer but may be a string.
func jsonInt(raw json.RawMessage) int {
	if len(raw) == 0 {
		return 0
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil && f == float64(int(f)) {
		return int(f)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return n
		}
	}
	return 0
}

// describeForeignBody says what was received instead of Wazuh JSON.
func describeForeignBody(contentType string, body []byte) string {
	d := fmt.Sprintf("expected a Wazuh JSON body but received %d bytes of %s", len(body), orUnknown(contentType))
	if t := htmlTitle(body); t != "" {
		d += fmt.Sprintf(" (an HTML page titled %q)", t)
	}
	return d + " starting with " + quoteSnippet(body)
}

// htmlTitle returns the <title> of an HTML body, if any.
func htmlTitle(body []byte) string {
	lower := bytes.ToLower(body)
	i := bytes.Index(lower, []byte("<title>"))
	if i < 0 {
		return ""
	}
	rest := body[i+len("<title>"):]
	j := bytes.Index(bytes.ToLower(rest), []byte("</title>"))
	if j < 0 || j > 200 {
		return ""
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(rest[:j]), "?"))
}

// quoteSnippet quotes the first bytes of body for an error message.
func quoteSnippet(body []byte) string {
	b := body
	cut := len(b) > snippetLen
	if cut {
		b = b[:snippetLen]
	}
	s := strconv.Quote(strings.ToValidUTF8(string(b), "\uFFFD"))
	if cut {
		s += "..."
	}
	return s
}

// isJSONType reports whether a Content-Type names JSON (application/json, problem+json).
func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// orUnknown names a Content-Type for a message, quoted, valid UTF-8 and short.
func orUnknown(ct string) string {
	if ct == "" {
		return "content of unknown type"
	}
	if len(ct) > 80 {
		ct = ct[:80]
	}
	return strconv.Quote(strings.ToValidUTF8(ct, "\uFFFD"))
}
