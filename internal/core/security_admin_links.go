package core

import (
	"context"
	"sort"
	"strconv"
)

// linkSet is the links of one object (a user's roles, a role's policies or
// rules) during a write, kept in step with what the transaction does.
type linkSet struct {
	table string
	from  int
	links []Link
	seq   int // storage order of links added during the write
}

func newLinkSet(all []Link, table string, from int) *linkSet {
	ls := &linkSet{table: table, from: from}
	for _, l := range all {
		if l.From == from {
			ls.links = append(ls.links, l)
		}
		ls.seq = max(ls.seq, l.ID)
	}
	return ls
}

func (ls *linkSet) find(to int) int {
	for i, l := range ls.links {
		if l.To == to {
			return i
		}
	}
	return -1
}

// add links to at Wazuh's level. Without a position the link goes last
// (level = number of links - 1, which can tie after removals). With one,
// the links from that level on move up by one (renumbered consecutively)
// when the level is taken, and the new link takes the position, or the
// level after the highest when the position is beyond it.
func (ls *linkSet) add(tx SecurityTx, to int, position *int, stamp string) error {
	if position != nil && ls.levelTaken(*position) {
		var shift []*Link
		for i := range ls.links {
			if ls.links[i].Level >= *position {
				shift = append(shift, &ls.links[i])
			}
		}
		sort.SliceStable(shift, func(i, j int) bool {
			if shift[i].Level != shift[j].Level {
				return shift[i].Level < shift[j].Level
			}
			return shift[i].ID < shift[j].ID
		})
		next := *position
		for _, l := range shift {
			next++
			if l.Level != next {
				if err := tx.UpdateLinkLevel(ls.table, ls.from, l.To, next); err != nil {
					return err
				}
				l.Level = next
			}
		}
	}
	level := len(ls.links)
	if position != nil {
		top := 0
		for _, l := range ls.links {
			top = max(top, l.Level)
		}
		switch {
		case len(ls.links) == 0:
			level = 0
		case *position > top+1:
			level = top + 1
		default:
			level = *position
		}
	}
	ls.seq++
	l := Link{ID: ls.seq, From: ls.from, To: to, Level: level, CreatedAt: stamp}
	ls.links = append(ls.links, l)
	l.ID = 0 // the store allocates the row id
	return tx.InsertLink(ls.table, l)
}

func (ls *linkSet) levelTaken(level int) bool {
	for _, l := range ls.links {
		if l.Level == level {
			return true
		}
	}
	return false
}

// remove unlinks to; with renumber, the links after it move down one level.
func (ls *linkSet) remove(tx SecurityTx, to int, renumber bool) error {
	i := ls.find(to)
	gone := ls.links[i]
	if err := tx.DeleteLink(ls.table, ls.from, to); err != nil {
		return err
	}
	ls.links = append(ls.links[:i], ls.links[i+1:]...)
	if !renumber {
		return nil
	}
	for j := range ls.links {
		if ls.links[j].Level > gone.Level {
			ls.links[j].Level--
			if err := tx.UpdateLinkLevel(ls.table, ls.from, ls.links[j].To, ls.links[j].Level); err != nil {
				return err
			}
		}
	}
	return nil
}

func usernameOf(snap *snapshot, id int) string {
	if u, ok := snap.usersByID[id]; ok {
		return u.Username
	}
	return "unknown"
}

// finishLinks puts the object after the change in the result when something
// was linked or unlinked.
func finishLinks(b *Bulk, n int, item func() (any, bool)) {
	if n == 0 {
		return
	}
	if it, ok := item(); ok {
		b.Add(it)
	}
	b.Total = n
}

// LinkUserRoles links roles to a user (POST /security/users/{user_id}/roles)
// at position (nil appends; each linked role takes the next position) and
// revokes the user's tokens.
func (s *Security) LinkUserRoles(ctx context.Context, userID int, roleIDs []int, position *int) (*Bulk, error) {
	name := usernameOf(s.snap.Load(), userID)
	b := NewBulk("All roles were linked to user "+name, "Some roles were not linked to user "+name,
		"No link was created to user "+name)
	n := 0
	pos := copyInt(position)
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		f := newFailer(b, Selection{})
		_, userOK := snap.usersByID[userID]
		ls := newLinkSet(snap.data.UserRoles, UserRolesTable, userID)
		for _, rid := range roleIDs {
			if userID <= MaxReservedID {
				f.fail(4008, userID)
				continue
			}
			if !userOK {
				f.fail(5001, userID)
				break
			}
			if _, ok := snap.rolesByID[rid]; !ok {
				f.fail(4002, rid)
				continue
			}
			if ls.find(rid) >= 0 && pos == nil {
				f.fail(4017, rid)
				continue
			}
			// Wazuh counts an existing link given with a position as linked,
			// and changes nothing.
			if ls.find(rid) < 0 {
				if err := ls.add(tx, rid, pos, s.stamp()); err != nil {
					return err
				}
			}
			n++
			if pos != nil {
				*pos++
			}
		}
		if n > 0 {
			return s.revoker(tx).user(userID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	finishLinks(b, n, func() (any, bool) { u, ok := s.UserByID(userID); return u, ok })
	return b, nil
}

// UnlinkUserRoles unlinks roles from a user (DELETE
// /security/users/{user_id}/roles) and revokes the user's tokens. An
// unknown user is a 404 (5001).
func (s *Security) UnlinkUserRoles(ctx context.Context, userID int, sel Selection) (*Bulk, error) {
	snap0 := s.snap.Load()
	if _, ok := snap0.usersByID[userID]; !ok {
		return nil, E(5001)
	}
	name := usernameOf(snap0, userID)
	b := NewBulk("All roles were unlinked from user "+name, "Some roles were not unlinked from user "+name,
		"No role was unlinked from user "+name)
	n := 0
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		f := newFailer(b, sel, 4002, 4016, 4008)
		ls := newLinkSet(snap.data.UserRoles, UserRolesTable, userID)
		for _, rid := range sel.pick(ids(snap.data.Roles, func(x Role) int { return x.ID })) {
			switch {
			case userID <= MaxReservedID:
				f.fail(4008, userID)
			case snap.rolesByID[rid] == nil:
				f.fail(4002, rid)
			case ls.find(rid) < 0:
				f.fail(4016, rid)
			default:
				if err := ls.remove(tx, rid, false); err != nil {
					return err
				}
				n++
			}
		}
		if n > 0 {
			return s.revoker(tx).user(userID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	finishLinks(b, n, func() (any, bool) { u, ok := s.UserByID(userID); return u, ok })
	return b, nil
}

// LinkRolePolicies links policies to a role (POST
// /security/roles/{role_id}/policies) and revokes the role's tokens.
func (s *Security) LinkRolePolicies(ctx context.Context, roleID int, policyIDs []int, position *int) (*Bulk, error) {
	r := strconv.Itoa(roleID)
	b := NewBulk("All policies were linked to role "+r, "Some policies were not linked to role "+r,
		"No link was created to role "+r)
	n := 0
	pos := copyInt(position)
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		f := newFailer(b, Selection{})
		ls := newLinkSet(snap.data.RolePolicies, RolePoliciesTable, roleID)
		for _, pid := range policyIDs {
			switch {
			case roleID <= MaxReservedID:
				f.fail(4008, roleID)
				continue
			case snap.rolesByID[roleID] == nil:
				f.fail(4002, roleID)
				continue
			case snap.policiesByID[pid] == nil:
				f.fail(4007, pid)
				continue
			case ls.find(pid) >= 0 && pos == nil:
				f.fail(4011, pid)
				continue
			case ls.find(pid) < 0:
				if err := ls.add(tx, pid, pos, s.stamp()); err != nil {
					return err
				}
			}
			n++
			if pos != nil {
				*pos++
			}
		}
		if n > 0 {
			return s.revoker(tx).roles(roleID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	finishLinks(b, n, func() (any, bool) { x, ok := s.RoleByID(roleID); return x, ok })
	return b, nil
}

// UnlinkRolePolicies unlinks policies from a role (DELETE
// /security/roles/{role_id}/policies); the following policies move up one
// position. An unknown role is a 404 (4002).
func (s *Security) UnlinkRolePolicies(ctx context.Context, roleID int, sel Selection) (*Bulk, error) {
	if s.snap.Load().rolesByID[roleID] == nil {
		return nil, E(4002)
	}
	r := strconv.Itoa(roleID)
	b := NewBulk("All policies were unlinked from role "+r, "Some policies were not unlinked from role "+r,
		"No policy was unlinked from role "+r)
	n := 0
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		f := newFailer(b, sel, 4007, 4008, 4010)
		ls := newLinkSet(snap.data.RolePolicies, RolePoliciesTable, roleID)
		existing := ids(snap.data.Policies, func(x Policy) int { return x.ID })
		for _, pid := range sel.pick(existing) {
			switch {
			case roleID <= MaxReservedID:
				f.fail(4008, roleID)
			case snap.policiesByID[pid] == nil:
				f.fail(4007, pid)
			case ls.find(pid) < 0:
				f.fail(4010, pid)
			default:
				if err := ls.remove(tx, pid, true); err != nil {
					return err
				}
				n++
			}
		}
		if n > 0 {
			return s.revoker(tx).roles(roleID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	finishLinks(b, n, func() (any, bool) { x, ok := s.RoleByID(roleID); return x, ok })
	return b, nil
}

// ids lists the ids of security objects, in their order.
func ids[T any](xs []T, id func(T) int) []int {
	out := make([]int, 0, len(xs))
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func copyInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
