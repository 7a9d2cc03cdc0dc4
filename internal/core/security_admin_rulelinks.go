package core

import (
	"context"
	"strconv"
)

// LinkRoleRules links security rules to a role (POST
// /security/roles/{role_id}/rules) and revokes every run_as token. Default
// rules (id ≤ 99) cannot be linked (4008, reported with the role id).
func (s *Security) LinkRoleRules(ctx context.Context, roleID int, ruleIDs []int) (*Bulk, error) {
	r := strconv.Itoa(roleID)
	b := NewBulk("All security rules were linked to role "+r, "Some security rules were not linked to role "+r,
		"No link was created to role "+r)
	n := 0
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		f := newFailer(b, Selection{})
		ls := newLinkSet(snap.data.RoleRules, RoleRulesTable, roleID)
		for _, rid := range ruleIDs {
			switch {
			case rid <= MaxReservedID:
				f.fail(4008, roleID)
			case snap.rulesByID[rid] == nil:
				f.fail(4022, rid)
			case snap.rolesByID[roleID] == nil:
				f.fail(4002, roleID)
			case ls.find(rid) >= 0:
				f.fail(4023, rid)
			default:
				ls.seq++
				ls.links = append(ls.links, Link{ID: ls.seq, From: roleID, To: rid})
				if err := tx.InsertLink(RoleRulesTable, Link{From: roleID, To: rid, CreatedAt: s.stamp()}); err != nil {
					return err
				}
				n++
			}
		}
		if n > 0 {
			return s.revoker(tx).runAs()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	finishLinks(b, n, func() (any, bool) { x, ok := s.RoleByID(roleID); return x, ok })
	return b, nil
}

// UnlinkRoleRules unlinks security rules from a role (DELETE
// /security/roles/{role_id}/rules) and revokes every run_as token. Rule
// failures carry the rule id as text, as in Wazuh.
func (s *Security) UnlinkRoleRules(ctx context.Context, roleID int, sel Selection) (*Bulk, error) {
	if s.snap.Load().rolesByID[roleID] == nil {
		return nil, E(4002)
	}
	r := strconv.Itoa(roleID)
	b := NewBulk("All security rules were unlinked from role "+r,
		"Some security rules were not unlinked from role "+r, "No security rule was unlinked from role "+r)
	n := 0
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		f := newFailer(b, sel, 4008, 4022, 4024)
		ls := newLinkSet(snap.data.RoleRules, RoleRulesTable, roleID)
		existing := ids(snap.data.Rules, func(x Rule) int { return x.ID })
		for _, rid := range sel.pick(existing) {
			switch {
			case rid <= MaxReservedID:
				f.fail(4008, roleID)
			case snap.rulesByID[rid] == nil:
				f.fail(4022, strconv.Itoa(rid))
			case ls.find(rid) < 0:
				f.fail(4024, strconv.Itoa(rid))
			default:
				if err := ls.remove(tx, rid, false); err != nil {
					return err
				}
				n++
			}
		}
		if n > 0 {
			return s.revoker(tx).runAs()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	finishLinks(b, n, func() (any, bool) { x, ok := s.RoleByID(roleID); return x, ok })
	return b, nil
}
