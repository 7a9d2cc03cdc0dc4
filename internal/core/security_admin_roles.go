package core

import (
	"context"
	"encoding/json"

	"github.com/muster-project/muster/internal/pyjson"
)

// CreateRole adds a role (POST /security/roles); a taken name is failed
// item 4005.
func (s *Security) CreateRole(ctx context.Context, name string) (*Bulk, error) {
	b := NewBulk("Role was successfully created", "Role was not created", "Role was not created")
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		for _, r := range snap.data.Roles {
			if r.Name == name {
				b.Fail(E(4005), name)
				return nil
			}
		}
		id, err := tx.InsertRole(Role{Name: name, CreatedAt: s.stamp()})
		if err != nil {
			return err
		}
		b.Add(RoleInfo{ID: id, Name: name, Policies: []int{}, Users: []int{}, Rules: []int{}})
		return nil
	})
	return b, err
}

// UpdateRole renames a role (PUT /security/roles/{role_id}) and revokes the
// tokens that carry it. A nil name is 4001.
func (s *Security) UpdateRole(ctx context.Context, id int, name *string) (*Bulk, error) {
	if name == nil {
		return nil, E(4001)
	}
	b := NewBulk("Role was successfully updated", "Role was not updated", "Role was not updated")
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		cur, ok := snap.rolesByID[id]
		switch {
		case !ok:
			b.Fail(E(4002), id)
			return nil
		case id <= MaxReservedID:
			b.Fail(E(4008), id)
			return nil
		}
		for _, r := range snap.data.Roles {
			if r.ID != id && r.Name == *name {
				b.Fail(E(4005), id)
				return nil
			}
		}
		next := *cur
		next.Name = *name
		if err := tx.UpdateRole(next); err != nil {
			return err
		}
		if err := s.revoker(tx).roles(id); err != nil {
			return err
		}
		info := snap.roleInfo(cur)
		info.Name = *name
		b.Add(info)
		return nil
	})
	return b, err
}

// DeleteRoles deletes roles with their links (DELETE /security/roles) and
// revokes the tokens that carry them.
func (s *Security) DeleteRoles(ctx context.Context, sel Selection) (*Bulk, error) {
	b := NewBulk("All specified roles were deleted", "Some roles were not deleted", "No role was deleted")
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		f := newFailer(b, sel, 4002, 4008)
		rv := s.revoker(tx)
		picked := sel.pick(ids(snap.data.Roles, func(x Role) int { return x.ID }))
		deleted, err := deleteEach(f, picked, snap.rolesByID, 4002, func(id int, r *Role) (RoleInfo, error) {
			if err := deleteRoleLinks(snap, tx, id); err != nil {
				return RoleInfo{}, err
			}
			if err := tx.DeleteRole(id); err != nil {
				return RoleInfo{}, err
			}
			return snap.roleInfo(r), rv.roles(id)
		})
		if err != nil {
			return err
		}
		sortByID(deleted, func(r RoleInfo) int { return r.ID })
		for _, r := range deleted {
			b.Add(r)
		}
		return nil
	})
	return b, err
}

func deleteRoleLinks(snap *snapshot, tx SecurityTx, id int) error {
	for _, u := range snap.roleUsers[id] {
		if err := tx.DeleteLink(UserRolesTable, u, id); err != nil {
			return err
		}
	}
	for _, p := range snap.rolePolicies[id] {
		if err := tx.DeleteLink(RolePoliciesTable, id, p); err != nil {
			return err
		}
	}
	for _, r := range snap.roleRules[id] {
		if err := tx.DeleteLink(RoleRulesTable, id, r); err != nil {
			return err
		}
	}
	return nil
}

// CreateRule adds a security rule (POST /security/rules); a taken name or
// an identical rule body is failed item 4005.
func (s *Security) CreateRule(ctx context.Context, name string, body json.RawMessage) (*Bulk, error) {
	b := NewBulk("Security rule was successfully created", "Security rule was not created",
		"Security rule was not created")
	text, err := ruleText(body)
	if err != nil {
		b.Fail(E(4003), name)
		return b, nil
	}
	err = s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		for _, r := range snap.data.Rules {
			if r.Name == name || string(r.Body) == string(text) {
				b.Fail(E(4005), name)
				return nil
			}
		}
		id, err := tx.InsertRule(Rule{Name: name, Body: text, CreatedAt: s.stamp()})
		if err != nil {
			return err
		}
		b.Add(RuleInfo{ID: id, Name: name, Body: text, Roles: []int{}})
		return nil
	})
	return b, err
}

// ruleText is the stored form of a rule body: Python's json.dumps of it.
func ruleText(body json.RawMessage) ([]byte, error) {
	v, err := pyjson.Parse(body, 0)
	if err != nil || v.Kind != pyjson.Object {
		return nil, errPolicyInvalid
	}
	return v.Dumps(), nil
}

// UpdateRule renames a security rule and/or replaces its body (PUT
// /security/rules/{rule_id}) and revokes the tokens of its roles.
func (s *Security) UpdateRule(ctx context.Context, id int, name *string, body json.RawMessage) (*Bulk, error) {
	if name == nil && body == nil {
		return nil, E(4001)
	}
	b := NewBulk("Security rule was successfully updated", "Security rule was not updated",
		"Security rule was not updated")
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		cur, ok := snap.rulesByID[id]
		switch {
		case !ok:
			b.Fail(E(4022), id)
			return nil
		case id <= MaxReservedID:
			b.Fail(E(4008), id)
			return nil
		}
		next := *cur
		if name != nil {
			next.Name = *name
		}
		if body != nil {
			text, err := ruleText(body)
			if err != nil {
				b.Fail(E(4003), id)
				return nil
			}
			next.Body = text
		}
		for _, r := range snap.data.Rules {
			if r.ID != id && (r.Name == next.Name || string(r.Body) == string(next.Body)) {
				b.Fail(E(4005), id)
				return nil
			}
		}
		if err := tx.UpdateRule(next); err != nil {
			return err
		}
		if err := s.revoker(tx).roles(snap.ruleRoles[id]...); err != nil {
			return err
		}
		b.Add(RuleInfo{ID: id, Name: next.Name, Body: next.Body, Roles: ascending(snap.ruleRoles[id])})
		return nil
	})
	return b, err
}

// DeleteRules deletes security rules (DELETE /security/rules) and revokes
// the tokens of the roles they were linked to.
func (s *Security) DeleteRules(ctx context.Context, sel Selection) (*Bulk, error) {
	b := NewBulk("All specified security rules were deleted", "Some security rules were not deleted",
		"No security rule was deleted")
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		f := newFailer(b, sel, 4022, 4008)
		rv := s.revoker(tx)
		picked := sel.pick(ids(snap.data.Rules, func(x Rule) int { return x.ID }))
		deleted, err := deleteEach(f, picked, snap.rulesByID, 4022, func(id int, r *Rule) (RuleInfo, error) {
			for _, role := range snap.ruleRoles[id] {
				if err := tx.DeleteLink(RoleRulesTable, role, id); err != nil {
					return RuleInfo{}, err
				}
			}
			if err := tx.DeleteRule(id); err != nil {
				return RuleInfo{}, err
			}
			return snap.ruleInfo(r), rv.roles(snap.ruleRoles[id]...)
		})
		if err != nil {
			return err
		}
		sortByID(deleted, func(r RuleInfo) int { return r.ID })
		for _, r := range deleted {
			b.Add(r)
		}
		return nil
	})
	return b, err
}
