package api_test

import (
	"strings"
	"testing"
)

// The analysis engine's operations answer 501 to every request Wazuh's
// document accepts, parameters and bodies included, and the document's 400
// to the others.
func TestAnalysisOperationsTakeTheirOwnParameters(t *testing.T) {
	e, tok := agEnv(t)
	auth := bearer(tok)
	notImpl := func(area string) string {
		return `{"title": "Not Implemented", "detail": "muster does not implement the analysis engine: /` + area +
			` endpoints are not supported. See docs/compatibility.md for the endpoints muster serves."}`
	}
	with := func(h map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for hk, hv := range h {
			out[hk] = hv
		}
		return out
	}
	for _, c := range []struct{ method, path, ctype, body, area string }{
		{"GET", "/rules?limit=5", "", "", "rules"},
		{"GET", "/rules?rule_ids=5710&status=enabled&level=2-4", "", "", "rules"},
		{"GET", "/decoders?limit=5", "", "", "decoders"},
		{"GET", "/decoders?decoder_names=sshd", "", "", "decoders"},
		{"PUT", "/lists/files/my-list?overwrite=true", "application/octet-stream", "a:b\n", "lists"},
		{"PUT", "/rules/files/local_rules.xml?overwrite=true", "application/octet-stream", "<group/>", "rules"},
		{"PUT", "/decoders/files/local_decoder.xml?overwrite=false", "application/octet-stream", "<decoder/>", "decoders"},
		{"GET", "/syscollector/001/packages?limit=10&vendor=Debian", "", "", "syscollector"},
		{"PUT", "/logtest", "application/json", `{"event": "x", "log_format": "syslog", "location": "y"}`, "logtest"},
		{"GET", "/rules/something/not/in/the/document", "", "", "rules"},
	} {
		h := auth
		if c.ctype != "" {
			h = with(auth, "Content-Type", c.ctype)
		}
		agExpect(t, do(t, e, c.method, c.path, h, c.body), 501, notImpl(c.area))
	}
	for _, c := range []struct{ method, path, ctype, body, want string }{
		{"GET", "/rules?limit=0", "", "", "0 is less than the minimum of 1 - 'limit'"},
		{"GET", "/rules?bogus=1", "", "", "Extra query parameter(s) bogus not in spec"},
		{"GET", "/rules?status=maybe", "", "", "'maybe' is not one of ['enabled', 'disabled', 'all'] - 'status'"},
		{"GET", "/rules?rule_ids=x", "", "", "'x' is not a 'integer' - 'rule_ids'"},
		{"PUT", "/rules/files/bad.txt", "application/octet-stream", "x", "'bad.txt' is not a 'xml_filename_path' - 'filename'"},
		{"PUT", "/rules/files/local_rules.xml", "application/octet-stream", "", "Request body must not be empty"},
		{"PUT", "/logtest", "application/json", "not json", "Expecting value: line 1 column 1 (char 0)"},
	} {
		h := auth
		if c.ctype != "" {
			h = with(auth, "Content-Type", c.ctype)
		}
		x := do(t, e, c.method, c.path, h, c.body)
		if x.status != 400 || !strings.Contains(string(x.body), c.want) {
			t.Errorf("%s %s: %d %s, want 400 with %q", c.method, c.path, x.status, x.body, c.want)
		}
	}
	x := do(t, e, "PUT", "/rules/files/local_rules.xml", with(auth, "Content-Type", "application/json"), "{}")
	if x.status != 415 {
		t.Errorf("wrong media type: %d %s", x.status, x.body)
	}
	// Authentication first.
	if x := do(t, e, "GET", "/rules?limit=0", nil, ""); x.status != 401 {
		t.Errorf("no token: %d", x.status)
	}
}
