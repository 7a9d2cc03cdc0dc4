package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/rbac"
)

func TestRBACCatalogue(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	// Wazuh 4.14.7 asks only for a valid token here: a user without any
	// permission reads the catalogue.
	h := bearer(secScoped(t, e, "nobody"))
	// The value is compared in lower case (the document's enum is not).
	expectBody(t, rawDo(t, e, "GET", "/security/resources?resource=AGENT:ID", h, ""), 200,
		`{"data": {"agent:id": {"description": "Reference agents via agent ID (i.e. agent:id:001)"}}, "error": 0}`)
	x := do(t, e, "GET", "/security/resources", h, "")
	if x.status != 200 || strings.Count(string(x.body), `"description"`) != 12 ||
		!strings.HasPrefix(string(x.body), `{"data": {"*:*": {"description": "Resource applied in functions acting on resources that do not yet exist in the system. We call these functions, resourceless functions"}, "agent:group"`) {
		t.Fatalf("%d %s", x.status, x.body)
	}
	// rule:id is missing from the document's enum, as in Wazuh.
	if x := do(t, e, "GET", "/security/resources?resource=rule:id", h, ""); x.status != 400 {
		t.Fatalf("rule:id: %d", x.status)
	}
	expectBody(t, do(t, e, "GET", "/security/actions?endpoint=PUT%20/active-response", h, ""), 200,
		`{"data": {"active-response:command": {"description": "Execute active response commands in the agents", `+
			`"resources": ["agent:id", "agent:group"], "example": {"actions": ["active-response:command"], `+
			`"resources": ["agent:id:001", "agent:group:atlantic"], "effect": "allow"}, "related_endpoints": ["PUT /active-response"]}}, "error": 0}`)
	expectBody(t, do(t, e, "GET", "/security/actions?endpoint=POST%20/security/user/authenticate", h, ""), 200, `{"data": {}, "error": 0}`)
	x = do(t, e, "GET", "/security/actions?endpoint=GET%20/nothing", h, "")
	want := `{"title": "Bad Request", "detail": "Invalid endpoint specified", "remediation": "Valid endpoints are: : ['GET /', 'PUT /active-response', `
	if x.status != 400 || !strings.HasPrefix(string(x.body), want) ||
		!strings.HasSuffix(string(x.body), `'DELETE /security/config', 'GET /tasks/status']", "dapi_errors": {"node01": {"error": "Invalid endpoint specified"}}, "error": 4020}`) {
		t.Fatalf("%d %s", x.status, x.body)
	}
	all, err := secAdmin(t, e).Actions(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	a := all["security:delete"]
	if len(all) != len(rbac.Actions()) || len(a.RelatedEndpoints) != 7 || a.RelatedEndpoints[0] != "DELETE /security/users" {
		t.Fatalf("%d actions; security:delete %+v", len(all), a)
	}
}
