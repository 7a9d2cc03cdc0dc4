package api

import (
	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
)

// policyItem renders a policy as Wazuh lists it: the body as stored.
func policyItem(p core.PolicyInfo) listItem {
	return listItem{id: p.ID,
		obj: Object{{"id", p.ID}, {"name", p.Name}, {"policy", p.Body}, {"roles", p.Roles}},
		m:   map[string]any{"id": p.ID, "name": p.Name, "policy": jsonView(p.Body), "roles": intsAny(p.Roles)}}
}

var policiesList = secList{
	idsParam: "policy_ids", notFound: 4007,
	msgs:       [3]string{"All specified policies were returned", "Some policies were not returned", "No policy was returned"},
	sortFields: agentql.SecuritySortFields, schema: agentql.PolicySchema,
	all: func(s *core.Security) []listItem {
		var out []listItem
		for _, p := range s.Policies() {
			out = append(out, policyItem(p))
		}
		return out
	},
	one: func(s *core.Security, id int) (listItem, bool) {
		p, ok := s.PolicyByID(id)
		return policyItem(p), ok
	},
}

// getPolicies is GET /security/policies.
func getPolicies(c *call) error { return policiesList.handle(c) }

// postPolicy is POST /security/policies.
func postPolicy(c *call) error {
	obj, err := c.adminBody(schemaPolicyCreate)
	if err != nil {
		return err
	}
	if err := c.requireResourceless(); err != nil {
		return err
	}
	b, err := c.s.sec.CreatePolicy(c.r.Context(), *bodyString(obj, "name"), obj["policy"])
	if err != nil {
		return err
	}
	return writeItems(c, b)
}

// putPolicy is PUT /security/policies/{policy_id}: a new name and/or body.
func putPolicy(c *call) error {
	id, raw, err := pathID(c, "policy_id", "Policy ID")
	if err != nil {
		return err
	}
	obj, err := c.adminBody(schemaPolicyUpdate)
	if err != nil {
		return err
	}
	if _, err := c.authorize(0, map[string][]string{"policy_id": {raw}}); err != nil {
		return err
	}
	b, err := c.s.sec.UpdatePolicy(c.r.Context(), id, bodyString(obj, "name"), obj["policy"])
	if err != nil {
		return err
	}
	return writeItems(c, b)
}
