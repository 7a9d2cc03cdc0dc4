package api

import (
	"errors"
	"strings"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// resourceParam is GET /security/resources's resource parameter, compared
// in lower case as Wazuh does.
func resourceParam() param {
	p := pString("resource", "", nil)
	p.lower = true
	return p
}

// resourceEnum is the resource enum of Wazuh's document (rule:id is
// missing from it there too).
var resourceEnum = []string{"*:*", "agent:group", "agent:id", "group:id", "node:id", "decoder:file", "list:file",
	"rule:file", "policy:id", "role:id", "user:id"}

// getRBACResources is GET /security/resources: the resource catalogue.
// Like Wazuh 4.14.7 it needs only a valid token.
func getRBACResources(c *call) error {
	res := ""
	if c.q.Has("resource") {
		res = strings.ToLower(c.q.Get("resource"))
		ok := false
		for _, e := range resourceEnum {
			ok = ok || e == res
		}
		if !ok {
			return badRequestf("'%s' is not one of ['%s'] - 'resource'", res, strings.Join(resourceEnum, "', '"))
		}
	}
	view, err := rbac.ResourcesFor(res)
	if err != nil {
		return catalogError(err)
	}
	writeJSON(c.w, c.r, data{Data: view})
	return nil
}

// getRBACActions is GET /security/actions: the action catalogue, or the
// actions of one "METHOD /path" of the document.
func getRBACActions(c *call) error {
	view, err := rbac.ActionsFor(c.q.Get("endpoint"))
	if err != nil {
		return catalogError(err)
	}
	writeJSON(c.w, c.r, data{Data: view})
	return nil
}

func catalogError(err error) error {
	var ce *rbac.CatalogError
	if !errors.As(err, &ce) {
		return core.Internal(err)
	}
	e := core.E(ce.Code)
	if ce.RemediationSuffix != "" {
		e = e.WithRemediation(": " + ce.RemediationSuffix)
	}
	return e
}
