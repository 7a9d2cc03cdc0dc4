package api

import (
	"context"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
)

// roleItem renders a role as Wazuh lists it.
func roleItem(r core.RoleInfo) listItem {
	return listItem{id: r.ID,
		obj: Object{{"id", r.ID}, {"name", r.Name}, {"policies", r.Policies}, {"users", r.Users}, {"rules", r.Rules}},
		m: map[string]any{"id": r.ID, "name": r.Name, "policies": intsAny(r.Policies), "users": intsAny(r.Users),
			"rules": intsAny(r.Rules)}}
}

var rolesList = secList{
	idsParam: "role_ids", notFound: 4002,
	msgs:       [3]string{"All specified roles were returned", "Some roles were not returned", "No role was returned"},
	sortFields: agentql.SecuritySortFields, schema: agentql.RoleSchema,
	all: func(s *core.Security) []listItem {
		var out []listItem
		for _, r := range s.Roles() {
			out = append(out, roleItem(r))
		}
		return out
	},
	one: func(s *core.Security, id int) (listItem, bool) {
		r, ok := s.RoleByID(id)
		return roleItem(r), ok
	},
}

// getRoles is GET /security/roles.
func getRoles(c *call) error { return rolesList.handle(c) }

// postRole is POST /security/roles.
func postRole(c *call) error {
	obj, err := c.adminBody(schemaRoleCreate)
	if err != nil {
		return err
	}
	if err := c.requireResourceless(); err != nil {
		return err
	}
	b, err := c.s.sec.CreateRole(c.r.Context(), *bodyString(obj, "name"))
	if err != nil {
		return err
	}
	return writeItems(c, b)
}

// putRole is PUT /security/roles/{role_id}: a new name.
func putRole(c *call) error {
	id, raw, err := pathID(c, "role_id", "Role ID")
	if err != nil {
		return err
	}
	obj, err := c.adminBody(schemaRoleUpdate)
	if err != nil {
		return err
	}
	if _, err := c.authorize(0, map[string][]string{"role_id": {raw}}); err != nil {
		return err
	}
	b, err := c.s.sec.UpdateRole(c.r.Context(), id, bodyString(obj, "name"))
	if err != nil {
		return err
	}
	return writeItems(c, b)
}

// deleteIDs serves the DELETE endpoints of whole objects: ids (or all),
// RBAC, then the delete.
func deleteIDs(param string, del func(*core.Security, context.Context, core.Selection) (*core.Bulk, error)) func(*call) error {
	return func(c *call) error {
		ids, err := idsArg(c, param)
		if err != nil {
			return err
		}
		d, err := c.authorize(0, ids)
		if err != nil {
			return err
		}
		sel, err := decidedSelection(d, param)
		if err != nil {
			return err
		}
		b, err := del(c.s.sec, c.r.Context(), sel)
		if err != nil {
			return err
		}
		reportDenied(b, d, param)
		return writeItems(c, b)
	}
}

var (
	deleteRoles    = deleteIDs("role_ids", (*core.Security).DeleteRoles)
	deletePolicies = deleteIDs("policy_ids", (*core.Security).DeletePolicies)
	deleteRules    = deleteIDs("rule_ids", (*core.Security).DeleteRules)
)

// postRoleLinks serves POST /security/roles/{role_id}/policies and /rules:
// one check on the role and the linked ids together.
func postRoleLinks(param string, link func(c *call, role int, ids []int) (*core.Bulk, error)) func(*call) error {
	return func(c *call) error {
		id, raw, err := pathID(c, "role_id", "Role ID")
		if err != nil {
			return err
		}
		named, err := linkArg(c, param)
		if err != nil {
			return err
		}
		d, err := c.authorize(0, map[string][]string{"role_id": {raw}, param: named})
		if err != nil {
			return err
		}
		sel, err := decidedSelection(d, param)
		if err != nil {
			return err
		}
		b, err := link(c, id, sel.IDs)
		if err != nil {
			return err
		}
		reportDenied(b, d, param)
		return writeItems(c, b)
	}
}

// deleteRoleLinks serves DELETE /security/roles/{role_id}/policies and
// /rules: the role is checked first (403), then the linked ids.
func deleteRoleLinks(param string, unlink func(*core.Security, context.Context, int, core.Selection) (*core.Bulk, error)) func(*call) error {
	return func(c *call) error {
		id, raw, err := pathID(c, "role_id", "Role ID")
		if err != nil {
			return err
		}
		ids, err := idsArg(c, param)
		if err != nil {
			return err
		}
		if _, err := c.authorize(0, map[string][]string{"role_id": {raw}}); err != nil {
			return err
		}
		d, err := c.authorize(1, ids)
		if err != nil {
			return err
		}
		sel, err := decidedSelection(d, param)
		if err != nil {
			return err
		}
		b, err := unlink(c.s.sec, c.r.Context(), id, sel)
		if err != nil {
			return err
		}
		reportDenied(b, d, param)
		return writeItems(c, b)
	}
}

var (
	postRolePolicies = postRoleLinks("policy_ids", func(c *call, role int, ids []int) (*core.Bulk, error) {
		return c.s.sec.LinkRolePolicies(c.r.Context(), role, ids, linkPosition(c))
	})
	postRoleRules = postRoleLinks("rule_ids", func(c *call, role int, ids []int) (*core.Bulk, error) {
		return c.s.sec.LinkRoleRules(c.r.Context(), role, ids)
	})
	deleteRolePolicies = deleteRoleLinks("policy_ids", (*core.Security).UnlinkRolePolicies)
	deleteRoleRules    = deleteRoleLinks("rule_ids", (*core.Security).UnlinkRoleRules)
)
