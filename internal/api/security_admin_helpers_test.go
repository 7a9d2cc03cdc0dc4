package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/core"
)

// rawDo sends a request without the contract checker, for answers Wazuh
// gives that its OpenAPI document does not describe.
func rawDo(t *testing.T, e *apitest.Env, method, path string, headers map[string]string, body string) exchange {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.RawHTTP().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return exchange{resp.StatusCode, resp.Header, b}
}

// admins keeps one administrator SDK client per test manager: password
// checks are the expensive part of these tests (scrypt, more so under the
// race detector), so each manager logs the administrator in once.
var admins sync.Map // *apitest.Env → *client.Client

// admin returns the test manager's administrator client.
func secAdmin(t *testing.T, e *apitest.Env) *client.Client {
	if c, ok := admins.Load(e); ok {
		return c.(*client.Client)
	}
	c, loaded := admins.LoadOrStore(e, e.Admin())
	if !loaded {
		t.Cleanup(func() { admins.Delete(e) })
	}
	return c.(*client.Client)
}

// adminToken is the administrator client's current token.
func secAdminToken(t *testing.T, e *apitest.Env) string {
	t.Helper()
	tok, err := secAdmin(t, e).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// jsonAuth is a bearer header with a JSON content type.
func secJSONAuth(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
}

// items renders Wazuh's affected-items envelope the way it is sent.
func secItems(affected string, total int, failed []string, msg string) string {
	code := 0
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
	switch {
	case total == 0 && nFailed > 0:
		code = 1
	case nFailed > 0:
		code = 2
	}
	return fmt.Sprintf(`{"data": {"affected_items": [%s], "total_affected_items": %d, "total_failed_items": %d, `+
		`"failed_items": [%s]}, "message": "%s", "error": %d}`, affected, total, nFailed, strings.Join(failed, ", "), msg, code)
}

// failed renders one failed-items group with the catalogue's texts.
func secFailed(code int, ids string) string {
	e := core.E(code)
	rem := ""
	if e.Remediation != "" {
		rem = fmt.Sprintf(`, "remediation": %s`, secQuote(e.Remediation))
	}
	return fmt.Sprintf(`{"error": {"code": %d, "message": %s%s}, "id": [%s]}`, code, secQuote(e.Detail), rem, ids)
}

// deniedItem is the failed-items group of ids RBAC refused.
func secDenied(typ, ids string) string {
	return fmt.Sprintf(`{"error": {"code": 4000, "message": "Permission denied: Resource type: %s", "remediation": %s}, "id": [%s]}`,
		typ, secQuote(core.E(4000).Remediation), ids)
}

// forbiddenBody is Wazuh's 403 for a resource type, with the node shown.
func secForbidden(typ, node string) string {
	msg := "Permission denied: Resource type: " + typ
	return fmt.Sprintf(`{"title": "Permission Denied", "detail": "%s", "remediation": %s, "dapi_errors": {"%s": {"error": "%s"}}, "error": 4000}`,
		msg, secQuote(core.E(4000).Remediation), node, msg)
}

// problem renders a framework error body (with dapi_errors) for code.
func secProblem(status int, code int, node string) string {
	e := core.E(code)
	title := map[int]string{400: "Bad Request", 403: "Permission Denied", 404: "Resource Not Found"}[status]
	rem := ""
	if e.Remediation != "" {
		rem = fmt.Sprintf(`, "remediation": %s`, secQuote(e.Remediation))
	}
	return fmt.Sprintf(`{"title": "%s", "detail": %s%s, "dapi_errors": {"%s": {"error": %s}}, "error": %d}`,
		title, secQuote(e.Detail), rem, node, secQuote(e.Detail), code)
}

func secBadRequest(detail string) string {
	return `{"title": "Bad Request", "detail": ` + secQuote(detail) + `}`
}

func secQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// scoped creates a user (password Passw0rd!x) holding one new role with
// the given policies, logged in; it returns the user's token. The clock moves a second so the token is not
// caught by the revocations of the setup itself.
func secScoped(t *testing.T, e *apitest.Env, name string, policies ...client.PolicyBody) string {
	t.Helper()
	adm := secAdmin(t, e)
	// The user goes straight into the store; creating the role next makes
	// the manager reload it.
	grantRole(t, adm, secAddUser(t, e, name), name, policies...)
	e.Clock.Advance(time.Second)
	return token(t, e, name, "Passw0rd!x")
}

// grantRole gives user uid a new role, <name>_role, holding the policies.
func grantRole(t *testing.T, adm *client.Client, uid int, name string, policies ...client.PolicyBody) {
	t.Helper()
	ctx := context.Background()
	role, err := adm.CreateRole(ctx, name+"_role")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for i, p := range policies {
		pol, err := adm.CreatePolicy(ctx, fmt.Sprintf("%s_p%d", name, i), p)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pol.ID)
	}
	if len(pids) > 0 {
		if _, err := adm.AddRolePolicies(ctx, role.ID, pids, -1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := adm.AddUserRoles(ctx, uid, []int{role.ID}, -1); err != nil {
		t.Fatal(err)
	}
}

// addUser writes a user with password Passw0rd!x straight into the store
// (hashing is slow) and returns its id; the manager sees it after its next
// write through the API.
func secAddUser(t *testing.T, e *apitest.Env, name string) int {
	t.Helper()
	var id int
	err := e.Store.UpdateSecurity(context.Background(), func(tx core.SecurityTx) error {
		var err error
		id, err = tx.InsertUser(core.User{Username: name, Password: secTestHash(t)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func allowPolicy(actions, resources []string) client.PolicyBody {
	return client.PolicyBody{Actions: actions, Resources: resources, Effect: "allow"}
}

func denyPolicy(actions, resources []string) client.PolicyBody {
	return client.PolicyBody{Actions: actions, Resources: resources, Effect: "deny"}
}

func strs(s ...string) []string { return s }
