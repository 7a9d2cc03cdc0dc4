package api

import (
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/rbac"
)

// TestRouteAccessMatchesDocument checks that every route declares the RBAC
// actions Wazuh's document lists for it (its x-rbac-actions), so the route
// table and GET /security/actions cannot disagree, and that every check a
// route declares names only those actions.
func TestRouteAccessMatchesDocument(t *testing.T) {
	t.Parallel()
	doc := map[string][]string{}
	for _, ep := range rbac.Endpoints() {
		doc[ep.Endpoint] = ep.Actions
	}
	checked := 0
	for _, rt := range routes() {
		want, ok := doc[rt.method+" "+rt.path]
		if !ok || RouteStatus(rt.method, rt.path) == "not supported (501)" {
			continue
		}
		checked++
		if strings.Join(rt.access.Actions, ",") != strings.Join(want, ",") {
			t.Errorf("%s %s declares %v, the document %v", rt.method, rt.path, rt.access.Actions, want)
		}
		for _, c := range rt.access.Checks {
			for _, a := range c.Actions {
				if !strings.Contains(","+strings.Join(want, ",")+",", ","+a+",") {
					t.Errorf("%s %s checks %s, which the document does not list", rt.method, rt.path, a)
				}
			}
		}
	}
	if checked < 34 {
		t.Fatalf("only %d routes checked", checked)
	}
}
