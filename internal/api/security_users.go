package api

import (
	"github.com/go-chi/chi/v5"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
)

// userItem renders a user as Wazuh lists it.
func userItem(u core.UserInfo) listItem {
	return listItem{id: u.ID,
		obj: Object{{"id", u.ID}, {"username", u.Username}, {"allow_run_as", u.AllowRunAs}, {"roles", u.Roles}},
		m: map[string]any{"id": u.ID, "username": u.Username, "allow_run_as": u.AllowRunAs,
			"roles": intsAny(u.Roles)}}
}

var usersList = secList{
	idsParam: "user_ids", notFound: 5001,
	msgs:       [3]string{"All specified users were returned", "Some users were not returned", "No user was returned"},
	sortFields: agentql.UserSortFields, schema: agentql.UserSchema,
	all: func(s *core.Security) []listItem {
		var out []listItem
		for _, u := range s.Users() {
			out = append(out, userItem(u))
		}
		return out
	},
	one: func(s *core.Security, id int) (listItem, bool) {
		u, ok := s.UserByID(id)
		return userItem(u), ok
	},
}

// getUsers is GET /security/users.
func getUsers(c *call) error { return usersList.handle(c) }

// writeItems renders a bulk whose affected items are core views.
func writeItems(c *call, b *core.Bulk) error {
	for i, it := range b.Affected {
		switch v := it.(type) {
		case core.UserInfo:
			b.Affected[i] = userItem(v).obj
		case core.RoleInfo:
			b.Affected[i] = roleItem(v).obj
		case core.PolicyInfo:
			b.Affected[i] = policyItem(v).obj
		case core.RuleInfo:
			b.Affected[i] = ruleItem(v).obj
		}
	}
	writeBulk(c.w, c.r, b)
	return nil
}

// postUser is POST /security/users.
func postUser(c *call) error {
	obj, err := c.adminBody(schemaUserCreate)
	if err != nil {
		return err
	}
	if err := c.requireResourceless(); err != nil {
		return err
	}
	b, err := c.s.sec.CreateUser(c.r.Context(), *bodyString(obj, "username"), *bodyString(obj, "password"))
	if err != nil {
		return err
	}
	return writeItems(c, b)
}

// pathID reads a numeric path parameter; anything else is the 400 Wazuh's
// schema validation gives.
func pathID(c *call, name, description string) (int, string, error) {
	v := chi.URLParam(c.r, name)
	if !reNumbers.MatchString(v) {
		return 0, v, core.BadRequest("'" + v + "' is not a 'numbers'. Failed validating 'format' in schema: " +
			"{'description': '" + description + "', 'format': 'numbers', 'type': 'string'}. On instance: '" + v + "'")
	}
	ids, err := intIDs(name, []string{v})
	if err != nil {
		return 0, v, err
	}
	return ids[0], v, nil
}

// putUser is PUT /security/users/{user_id}: a new password.
func putUser(c *call) error {
	id, raw, err := pathID(c, "user_id", "User ID")
	if err != nil {
		return err
	}
	obj, err := c.adminBody(schemaUserUpdate)
	if err != nil {
		return err
	}
	if _, err := c.authorize(0, map[string][]string{"user_id": {raw}}); err != nil {
		return err
	}
	b, err := c.s.sec.UpdatePassword(c.r.Context(), c.sess, id, bodyString(obj, "password"))
	if err != nil {
		return err
	}
	return writeItems(c, b)
}

// deleteUsers is DELETE /security/users?user_ids=...|all.
func deleteUsers(c *call) error {
	ids, err := idsArg(c, "user_ids")
	if err != nil {
		return err
	}
	d, err := c.authorize(0, ids)
	if err != nil {
		return err
	}
	sel, err := decidedSelection(d, "user_ids")
	if err != nil {
		return err
	}
	b, err := c.s.sec.DeleteUsers(c.r.Context(), c.sess, sel)
	if err != nil {
		return err
	}
	reportDenied(b, d, "user_ids")
	return writeItems(c, b)
}

// idsArg reads an ids parameter that accepts "all" for the engine: "all"
// anywhere means the parameter was not given (nil map). Ids too large for
// any row are a 400.
func idsArg(c *call, param string) (map[string][]string, error) {
	named := listParam(c.q, param)
	for _, v := range named {
		if v == "all" {
			return nil, nil
		}
	}
	if _, err := intIDs(param, named); err != nil {
		return nil, err
	}
	return map[string][]string{param: named}, nil
}

// linkArg reads the required ids of a POST link endpoint. "all" is refused
// with a 400 (Wazuh's document lets it through to an internal error).
func linkArg(c *call, param string) ([]string, error) {
	named := listParam(c.q, param)
	for _, v := range named {
		if v == "all" {
			return nil, badRequestf("'all' is not a 'numbers' - '%s'", param)
		}
	}
	_, err := intIDs(param, named)
	return named, err
}

// linkPosition reads the optional link position.
func linkPosition(c *call) *int {
	if !c.q.Has("position") {
		return nil
	}
	p := queryInt(c, "position", 0)
	return &p
}

// putUserRunAs is PUT /security/users/{user_id}/run_as?allow_run_as=...
func putUserRunAs(c *call) error {
	id, _, err := pathID(c, "user_id", "User ID")
	if err != nil {
		return err
	}
	if err := c.requireResourceless(); err != nil {
		return err
	}
	b, err := c.s.sec.SetRunAs(c.r.Context(), id, boolParam(c.q, "allow_run_as"))
	if err != nil {
		return err
	}
	return writeItems(c, b)
}

// postUserRoles is POST /security/users/{user_id}/roles?role_ids=...
func postUserRoles(c *call) error {
	id, raw, err := pathID(c, "user_id", "User ID")
	if err != nil {
		return err
	}
	roles, err := linkArg(c, "role_ids")
	if err != nil {
		return err
	}
	d, err := c.authorize(0, map[string][]string{"user_id": {raw}, "role_ids": roles})
	if err != nil {
		return err
	}
	allowed, err := decidedSelection(d, "role_ids")
	if err != nil {
		return err
	}
	b, err := c.s.sec.LinkUserRoles(c.r.Context(), id, allowed.IDs, linkPosition(c))
	if err != nil {
		return err
	}
	reportDenied(b, d, "role_ids")
	return writeItems(c, b)
}

// deleteUserRoles is DELETE /security/users/{user_id}/roles?role_ids=...|all.
func deleteUserRoles(c *call) error {
	id, raw, err := pathID(c, "user_id", "User ID")
	if err != nil {
		return err
	}
	roles, err := idsArg(c, "role_ids")
	if err != nil {
		return err
	}
	if _, err := c.authorize(0, map[string][]string{"user_id": {raw}}); err != nil {
		return err
	}
	d, err := c.authorize(1, roles)
	if err != nil {
		return err
	}
	sel, err := decidedSelection(d, "role_ids")
	if err != nil {
		return err
	}
	b, err := c.s.sec.UnlinkUserRoles(c.r.Context(), id, sel)
	if err != nil {
		return err
	}
	reportDenied(b, d, "role_ids")
	return writeItems(c, b)
}
