package api

import (
	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
)

// ruleItem renders a security rule as Wazuh lists it: the body as stored.
func ruleItem(r core.RuleInfo) listItem {
	return listItem{id: r.ID,
		obj: Object{{"id", r.ID}, {"name", r.Name}, {"rule", r.Body}, {"roles", r.Roles}},
		m:   map[string]any{"id": r.ID, "name": r.Name, "rule": jsonView(r.Body), "roles": intsAny(r.Roles)}}
}

var rulesList = secList{
	idsParam: "rule_ids", notFound: 4022, textIDs: true,
	msgs: [3]string{"All specified security rules were returned", "Some security rules were not returned",
		"No security rule was returned"},
	sortFields: agentql.SecuritySortFields, schema: agentql.RuleSchema,
	all: func(s *core.Security) []listItem {
		var out []listItem
		for _, r := range s.Rules() {
			out = append(out, ruleItem(r))
		}
		return out
	},
	one: func(s *core.Security, id int) (listItem, bool) {
		r, ok := s.RuleByID(id)
		return ruleItem(r), ok
	},
}

// getRules is GET /security/rules.
func getRules(c *call) error { return rulesList.handle(c) }

// postRule is POST /security/rules.
func postRule(c *call) error {
	obj, err := c.adminBody(schemaRuleCreate)
	if err != nil {
		return err
	}
	if err := c.requireResourceless(); err != nil {
		return err
	}
	b, err := c.s.sec.CreateRule(c.r.Context(), *bodyString(obj, "name"), obj["rule"])
	if err != nil {
		return err
	}
	return writeItems(c, b)
}

// putRule is PUT /security/rules/{rule_id}: a new name and/or body.
func putRule(c *call) error {
	id, raw, err := pathID(c, "rule_id", "Security rule ID")
	if err != nil {
		return err
	}
	obj, err := c.adminBody(schemaRuleUpdate)
	if err != nil {
		return err
	}
	if _, err := c.authorize(0, map[string][]string{"rule_id": {raw}}); err != nil {
		return err
	}
	b, err := c.s.sec.UpdateRule(c.r.Context(), id, bodyString(obj, "name"), obj["rule"])
	if err != nil {
		return err
	}
	return writeItems(c, b)
}
