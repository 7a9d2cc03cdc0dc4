package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/muster-project/muster/client"
)

func TestParseError(t *testing.T) {
	for _, tc := range []struct {
		name        string
		status      int
		ct          string
		body        string
		code        int
		title       string
		detailHas   []string
		remedyHas   string
		badResponse bool
	}{
		{name: "wazuh problem", status: 404, ct: "application/problem+json; charset=utf-8",
			body: `{"title": "Resource Not Found", "detail": "The group does not exist", "remediation": "Please, use ` + "`GET /agents/groups`" + `", "dapi_errors": {"node01": {"error": "The group does not exist"}}, "error": 1710}`,
			code: 1710, title: "Resource Not Found", detailHas: []string{"The group does not exist"}, remedyHas: "GET /agents/groups"},
		{name: "login failure", status: 401, ct: "application/problem+json; charset=utf-8",
			body:  `{"title": "Unauthorized", "detail": "Invalid credentials"}`,
			title: "Unauthorized", detailHas: []string{"Invalid credentials"}, remedyHas: "check the user name and password"},
		{name: "connexion 400 without code", status: 400, ct: "application/problem+json",
			body:  `{"title": "Bad Request", "detail": "Extra query parameter(s) foo not in spec"}`,
			title: "Bad Request", detailHas: []string{"foo not in spec"}},
		{name: "html from a proxy", status: 502, ct: "text/html",
			body:  "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
			title: "Bad Gateway", detailHas: []string{"text/html", `"502 Bad Gateway"`, "<html>"}, remedyHas: "proxy", badResponse: true},
		{name: "truncated json", status: 500, ct: "application/json",
			body:  `{"title": "Wazuh Internal Error", "detail": "Timeout exec`,
			title: "Internal Server Error", detailHas: []string{"not a valid JSON object", "received 57 bytes", "application/json"}, badResponse: true},
		{name: "empty body", status: 503, title: "Service Unavailable", detailHas: []string{"empty"}},
		{name: "code as string and odd detail", status: 400, ct: "application/json",
			body: `{"title": "Bad Request", "detail": {"x": 1}, "error": "1407"}`,
			code: 1407, title: "Bad Request", detailHas: []string{`{"x":1}`}},
		{name: "plain text", status: 413, ct: "text/plain", body: "Request Entity Too Large",
			title: "Request Entity Too Large", detailHas: []string{"text/plain", "24 bytes"}, badResponse: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := client.ParseError("GET", "/groups/x", tc.status, tc.ct, []byte(tc.body))
			if e.Status != tc.status || e.Code != tc.code || e.Title != tc.title {
				t.Fatalf("got status %d code %d title %q; want %d %d %q", e.Status, e.Code, e.Title, tc.status, tc.code, tc.title)
			}
			for _, s := range tc.detailHas {
				if !strings.Contains(e.Detail, s) {
					t.Errorf("detail %q lacks %q", e.Detail, s)
				}
			}
			if !strings.Contains(e.Remediation, tc.remedyHas) {
				t.Errorf("remediation %q lacks %q", e.Remediation, tc.remedyHas)
			}
			if errors.Is(e, client.ErrBadResponse) != tc.badResponse {
				t.Errorf("ErrBadResponse = %v, want %v", !tc.badResponse, tc.badResponse)
			}
			if !strings.Contains(e.Error(), "GET /groups/x") {
				t.Errorf("Error() = %q lacks the request", e.Error())
			}
		})
	}
}

func TestPredicates(t *testing.T) {
	for _, tc := range []struct {
		err  *client.Error
		pred func(error) bool
		want bool
	}{
		{&client.Error{Status: 429}, client.IsRateLimited, true},
		{&client.Error{Status: 200, Code: 1701}, client.IsNotFound, true},
		{&client.Error{Status: 404}, client.IsNotFound, true},
		{&client.Error{Status: 400, Code: 1705}, client.IsNotFound, false},
		{&client.Error{Status: 403, Code: 4000}, client.IsBlocked, false},
		{&client.Error{Status: 403, Code: 6000}, client.IsBlocked, true},
		{&client.Error{Status: 403, Code: 4000}, client.IsForbidden, true},
		{&client.Error{Status: 401}, client.IsUnauthorized, true},
		{&client.Error{Status: 500}, client.IsUnauthorized, false},
	} {
		wrapped := fmt.Errorf("scan: %w", tc.err)
		if got := tc.pred(wrapped); got != tc.want {
			t.Errorf("predicate on %d/%d = %v, want %v", tc.err.Status, tc.err.Code, got, tc.want)
		}
	}
}

func TestBodyProblemsOnSuccess(t *testing.T) {
	f := newFake(t, newClock())
	f.handle("GET /agents", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data": {"affected_items": [{"id": "001", "na`)
	})
	f.handle("GET /groups", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><title>Sign in</title></html>")
	})
	f.handle("GET /", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"data": map[string]string{"hostname": strings.Repeat("x", 4096)}, "error": 0})
	})
	c, _ := start(t, f, client.WithMaxBodySize(1024))
	ctx := context.Background()

	_, err := c.ListAgents(ctx, client.AgentQuery{})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || !errors.Is(err, client.ErrBadResponse) || !strings.Contains(apiErr.Detail, "cannot decode") {
		t.Fatalf("truncated JSON: %v", err)
	}
	_, err = c.ListGroups(ctx, client.GroupQuery{})
	if !errors.As(err, &apiErr) || !strings.Contains(apiErr.Detail, `"Sign in"`) || !strings.Contains(apiErr.Detail, "text/html") {
		t.Fatalf("HTML on 200: %v", err)
	}
	_, err = c.Info(ctx)
	if !errors.Is(err, client.ErrResponseTooLarge) || !strings.Contains(err.Error(), "1024") {
		t.Fatalf("oversized body: %v", err)
	}
	if f.hitCount("GET /") != 1 {
		t.Fatalf("an oversized answer must not be retried: hits = %d", f.hitCount("GET /"))
	}
}

func TestFailedItemBecomesError(t *testing.T) {
	f := newFake(t, newClock())
	f.handle("GET /agents", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"data": map[string]any{"affected_items": []any{}, "total_affected_items": 0,
			"total_failed_items": 1, "failed_items": []any{map[string]any{
				"error": map[string]any{"code": 1701, "message": "Agent does not exist", "remediation": "Please, use `GET /agents?select=id,name`"},
				"id":    []any{"999"}}}}, "message": "No agent information was returned", "error": 1})
	})
	f.handle("GET /security/users", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"data": map[string]any{"affected_items": []any{}, "total_affected_items": 0,
			"total_failed_items": 1, "failed_items": []any{map[string]any{
				"error": map[string]any{"code": 5001, "message": "The user does not exist"}, "id": []any{7}}}}, "error": 1})
	})
	c, _ := start(t, f)
	_, err := c.GetAgent(context.Background(), "999")
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || !client.IsNotFound(err) || apiErr.Code != 1701 {
		t.Fatalf("GetAgent: %v", err)
	}
	_, err = c.GetUser(context.Background(), 7)
	if !client.IsNotFound(err) {
		t.Fatalf("GetUser: %v", err)
	}
	res, err := c.ListAgents(context.Background(), client.AgentQuery{AgentsList: []string{"999"}})
	if err != nil || res.FailedItems[0].IDs[0] != "999" || !client.IsNotFound(res.Failed()) {
		t.Fatalf("ListAgents failed items: %+v, %v", res, err)
	}
}

func FuzzParseError(f *testing.F) {
	seeds := []struct {
		status int
		ct     string
		body   string
	}{
		{401, "application/problem+json; charset=utf-8", `{"title": "Unauthorized", "detail": "Invalid token"}`},
		{403, "application/problem+json", `{"title": "Permission Denied", "detail": "Limit", "error": 6000}`},
		{502, "text/html", "<html><title>Bad</title></html>"},
		{500, "application/json", `{"title": "x", "detail": "y`},
		{400, "", `{"error": "12", "detail": [1, {"a": "\xff"}], "dapi_errors": {"n": {"error": "e"}}}`},
		{429, "text/plain", "\xff\xfe\x00 binary"},
		{0, "bogus/;;", ""},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, ct string, body []byte) {
		e := client.ParseError("GET", "/agents", status, ct, body)
		if e == nil || e.Status != status || e.Method != "GET" || e.Path != "/agents" {
			t.Fatalf("ParseError lost the request: %+v", e)
		}
		msg := e.Error()
		if msg == "" || !utf8.ValidString(e.Detail) || !utf8.ValidString(e.Title) {
			t.Fatalf("invalid message: %q", msg)
		}
		if len(body) > 0 && body[0] != '{' && !strings.Contains(ct, "json") && len(e.Detail) > 700 {
			t.Fatalf("detail for a foreign body should stay short, got %d bytes", len(e.Detail))
		}
	})
}
