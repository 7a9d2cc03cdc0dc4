package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/core"
)

// agJSON quotes s as a JSON string (Python and Go agree for ASCII).
func agJSON(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// agItems renders Wazuh's affected-items envelope as muster sends it.
func agItems(affected string, total int, failed []string, msg string) string {
	nFailed := 0
	for _, f := range failed {
		var v struct {
			ID []any `json:"id"`
		}
		if err := json.Unmarshal([]byte(f), &v); err != nil {
			panic(err)
		}
		nFailed += len(v.ID)
	}
	code := 0
	switch {
	case total == 0 && nFailed > 0:
		code = 1
	case nFailed > 0:
		code = 2
	}
	return fmt.Sprintf(`{"data": {"affected_items": [%s], "total_affected_items": %d, "total_failed_items": %d, `+
		`"failed_items": [%s]}, "message": "%s", "error": %d}`, affected, total, nFailed, strings.Join(failed, ", "), msg, code)
}

// agFailed renders one failed-items group; extra is appended to the message.
func agFailed(code int, extra string, ids ...string) string {
	e := core.E(code)
	msg := e.Detail
	if extra != "" {
		msg += ": " + extra
	}
	rem := ""
	if e.Remediation != "" {
		rem = `, "remediation": ` + agJSON(e.Remediation)
	}
	return fmt.Sprintf(`{"error": {"code": %d, "message": %s%s}, "id": [%s]}`, code, agJSON(msg), rem,
		strings.Join(ids, ", "))
}

// agQuoted quotes each id.
func agQuoted(ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = agJSON(id)
	}
	return out
}

// agProblem renders a framework error body for code on node node01.
func agProblem(code int, extra string) string {
	e := core.E(code)
	title := map[int]string{400: "Bad Request", 403: "Permission Denied", 404: "Resource Not Found",
		500: "Wazuh Internal Error"}[e.HTTPStatus()]
	msg := e.Detail
	if extra != "" {
		msg += ": " + extra
	}
	rem := ""
	if e.Remediation != "" {
		rem = `, "remediation": ` + agJSON(e.Remediation)
	}
	return fmt.Sprintf(`{"title": "%s", "detail": %s%s, "dapi_errors": {"node01": {"error": %s}}, "error": %d}`,
		title, agJSON(msg), rem, agJSON(msg), code)
}

// agExpect checks the status and exact body of an exchange.
func agExpect(t *testing.T, x exchange, status int, want string) {
	t.Helper()
	if x.status != status || string(x.body) != want {
		t.Fatalf("got %d %s\nwant %d %s", x.status, x.body, status, want)
	}
}

// agStatus checks the status and that the body is a problem with the code
// (0: a request-validation error without one).
func agStatus(t *testing.T, x exchange, status, code int) {
	t.Helper()
	var b map[string]any
	json.Unmarshal(x.body, &b)
	got, _ := b["error"].(float64)
	_, hasTitle := b["title"]
	if x.status != status || int(got) != code || !hasTitle {
		t.Fatalf("got %d %s, want %d with error %d", x.status, x.body, status, code)
	}
}

// agData decodes the data of a 200 answer.
func agData(t *testing.T, x exchange) map[string]any {
	t.Helper()
	if x.status != 200 {
		t.Fatalf("status %d: %s", x.status, x.body)
	}
	var b struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(x.body, &b); err != nil {
		t.Fatal(err)
	}
	return b.Data
}

// agIDs returns the ids of the affected agents of a list answer.
func agIDs(t *testing.T, x exchange) string {
	t.Helper()
	var ids []string
	items, _ := agData(t, x)["affected_items"].([]any)
	for _, it := range items {
		switch v := it.(type) {
		case map[string]any:
			ids = append(ids, fmt.Sprint(v["id"]))
		default:
			ids = append(ids, fmt.Sprint(v))
		}
	}
	return strings.Join(ids, ",")
}

// agEnv starts a manager and returns it with an administrator token.
func agEnv(t *testing.T, opts ...apitest.Option) (*apitest.Env, string) {
	e := apitest.Start(t, opts...)
	return e, token(t, e, "wazuh", "wazuh")
}

// agGet sends a GET through the contract checker.
func agGet(t *testing.T, e *apitest.Env, tok, path string) exchange {
	t.Helper()
	return do(t, e, "GET", path, bearer(tok), "")
}

// agKeys reads client.keys.
func agKeys(t *testing.T, e *apitest.Env) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.DataDir, "etc", "client.keys"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// agScoped creates a user with one role holding the policies and returns
// its token.
func agScoped(t *testing.T, e *apitest.Env, name string, policies ...client.PolicyBody) string {
	t.Helper()
	ctx := context.Background()
	adm := e.Admin()
	u, err := adm.CreateUser(ctx, name, "Passw0rd!"+name)
	if err != nil {
		t.Fatal(err)
	}
	grantRole(t, adm, u.ID, name, policies...)
	e.Clock.Advance(time.Second)
	return token(t, e, name, "Passw0rd!"+name)
}

// agPolicy is an allow or deny policy body.
func agPolicy(effect string, actions []string, resources ...string) client.PolicyBody {
	return client.PolicyBody{Actions: actions, Resources: resources, Effect: effect}
}
