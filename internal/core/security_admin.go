package core

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
)

// UserInfo is a user as the security endpoints show it: no password, and
// the ids of its roles in position order.
type UserInfo struct {
	ID         int
	Username   string
	AllowRunAs bool
	Roles      []int
}

// RoleInfo is a role with the ids of its policies (position order), users
// and rules (storage order).
type RoleInfo struct {
	ID       int
	Name     string
	Policies []int
	Users    []int
	Rules    []int
}

// PolicyInfo is a policy with its stored JSON body and the roles holding it.
type PolicyInfo struct {
	ID    int
	Name  string
	Body  json.RawMessage
	Roles []int
}

// RuleInfo is a security rule with its stored JSON body and its roles.
type RuleInfo struct {
	ID    int
	Name  string
	Body  json.RawMessage
	Roles []int
}

func idList(list []int) []int {
	if list == nil {
		return []int{}
	}
	return append([]int(nil), list...)
}

// ascending lists related objects as Wazuh does when no position orders
// them: by ascending id, whatever order the links were made in.
func ascending(list []int) []int {
	out := idList(list)
	slices.Sort(out)
	return out
}

func (snap *snapshot) userInfo(u *User) UserInfo {
	return UserInfo{ID: u.ID, Username: u.Username, AllowRunAs: u.AllowRunAs, Roles: idList(snap.userRoles[u.ID])}
}

func (snap *snapshot) roleInfo(r *Role) RoleInfo {
	return RoleInfo{ID: r.ID, Name: r.Name, Policies: idList(snap.rolePolicies[r.ID]),
		Users: ascending(snap.roleUsers[r.ID]), Rules: ascending(snap.roleRules[r.ID])}
}

func (snap *snapshot) policyInfo(p *Policy) PolicyInfo {
	return PolicyInfo{ID: p.ID, Name: p.Name, Body: p.Body, Roles: ascending(snap.policyRoles[p.ID])}
}

func (snap *snapshot) ruleInfo(r *Rule) RuleInfo {
	return RuleInfo{ID: r.ID, Name: r.Name, Body: r.Body, Roles: ascending(snap.ruleRoles[r.ID])}
}

// Users returns every user in id order.
func (s *Security) Users() []UserInfo {
	snap := s.snap.Load()
	out := make([]UserInfo, len(snap.data.Users))
	for i := range snap.data.Users {
		out[i] = snap.userInfo(&snap.data.Users[i])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// UserByID returns one user.
func (s *Security) UserByID(id int) (UserInfo, bool) {
	snap := s.snap.Load()
	u, ok := snap.usersByID[id]
	if !ok {
		return UserInfo{}, false
	}
	return snap.userInfo(u), true
}

// Roles returns every role in id order.
func (s *Security) Roles() []RoleInfo {
	snap := s.snap.Load()
	out := make([]RoleInfo, len(snap.data.Roles))
	for i := range snap.data.Roles {
		out[i] = snap.roleInfo(&snap.data.Roles[i])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RoleByID returns one role.
func (s *Security) RoleByID(id int) (RoleInfo, bool) {
	snap := s.snap.Load()
	r, ok := snap.rolesByID[id]
	if !ok {
		return RoleInfo{}, false
	}
	return snap.roleInfo(r), true
}

// Policies returns every policy in id order.
func (s *Security) Policies() []PolicyInfo {
	snap := s.snap.Load()
	out := make([]PolicyInfo, len(snap.data.Policies))
	for i := range snap.data.Policies {
		out[i] = snap.policyInfo(&snap.data.Policies[i])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// PolicyByID returns one policy.
func (s *Security) PolicyByID(id int) (PolicyInfo, bool) {
	snap := s.snap.Load()
	p, ok := snap.policiesByID[id]
	if !ok {
		return PolicyInfo{}, false
	}
	return snap.policyInfo(p), true
}

// Rules returns every security rule in id order.
func (s *Security) Rules() []RuleInfo {
	snap := s.snap.Load()
	out := make([]RuleInfo, len(snap.data.Rules))
	for i := range snap.data.Rules {
		out[i] = snap.ruleInfo(&snap.data.Rules[i])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RuleByID returns one security rule.
func (s *Security) RuleByID(id int) (RuleInfo, bool) {
	snap := s.snap.Load()
	r, ok := snap.rulesByID[id]
	if !ok {
		return RuleInfo{}, false
	}
	return snap.ruleInfo(r), true
}

// Selection is the set of objects a bulk request acts on, after RBAC: the
// ids the request named and the caller may touch, or, when the request
// named none (or "all"), every existing object Allow accepts. With All,
// failures Wazuh leaves out of such answers (not found, reserved, missing
// link) are not reported.
type Selection struct {
	IDs   []int
	All   bool
	Allow func(id int) bool // nil allows every object
}

// pick returns the ids the selection names: the explicit ones, or the
// existing ones (in ascending order) that Allow accepts.
func (sel Selection) pick(existing []int) []int {
	if !sel.All {
		return sel.IDs
	}
	out := make([]int, 0, len(existing))
	for _, id := range existing {
		if sel.Allow == nil || sel.Allow(id) {
			out = append(out, id)
		}
	}
	sort.Ints(out)
	return out
}

// failer records failed items once per error and id, as Wazuh keeps a set
// of ids per error, and drops the codes a Selection with All excludes.
type failer struct {
	b       *Bulk
	seen    map[string]bool
	exclude map[int]bool
}

func newFailer(b *Bulk, sel Selection, excluded ...int) *failer {
	f := &failer{b: b, seen: map[string]bool{}}
	if sel.All {
		f.exclude = map[int]bool{}
		for _, c := range excluded {
			f.exclude[c] = true
		}
	}
	return f
}

func (f *failer) fail(code int, id any) {
	if f.exclude[code] {
		return
	}
	key := strconv.Itoa(code) + "\x00"
	switch v := id.(type) {
	case int:
		key += "i" + strconv.Itoa(v)
	case string:
		key += "s" + v
	}
	if f.seen[key] {
		return
	}
	f.seen[key] = true
	f.b.Fail(E(code), id)
}

// revoker adds blacklist rows inside a write, purging expired rows first
// (once) as Wazuh does before inserting.
type revoker struct {
	s      *Security
	tx     SecurityTx
	rev    Revocation
	purged bool
}

func (s *Security) revoker(tx SecurityTx) *revoker {
	return &revoker{s: s, tx: tx, rev: s.revocation()}
}

func (r *revoker) purge() error {
	if r.purged {
		return nil
	}
	r.purged = true
	return r.tx.PurgeRevocations(r.rev.NbfInvalidUntil)
}

func (r *revoker) user(id int) error {
	if err := r.purge(); err != nil {
		return err
	}
	return r.tx.RevokeUser(id, r.rev)
}

func (r *revoker) roles(ids ...int) error {
	if err := r.purge(); err != nil {
		return err
	}
	seen := map[int]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if err := r.tx.RevokeRole(id, r.rev); err != nil {
			return err
		}
	}
	return nil
}

func (r *revoker) runAs() error {
	if err := r.purge(); err != nil {
		return err
	}
	return r.tx.RevokeRunAs(r.rev)
}

// write runs fn in one store transaction with the current snapshot (writes
// are serialised, so it cannot change under fn). Nothing is stored when fn
// fails.
func (s *Security) write(ctx context.Context, fn func(snap *snapshot, tx SecurityTx) error) error {
	return s.update(ctx, func(tx SecurityTx) error {
		return fn(s.snap.Load(), tx)
	})
}

// sortByID orders items by id, keeping the order of equal ids.
func sortByID[T any](list []T, id func(T) int) {
	sort.SliceStable(list, func(i, j int) bool { return id(list[i]) < id(list[j]) })
}

// deleteEach deletes the picked objects of one kind in turn: reserved ids
// fail with 4008, unknown ones (or ids given twice) with missing. remove
// deletes one object with its links and revokes the tokens that held it;
// the views it returns come back in deletion order.
func deleteEach[T, V any](f *failer, picked []int, byID map[int]*T, missing int,
	remove func(id int, x *T) (V, error)) ([]V, error) {
	var out []V
	gone := map[int]bool{}
	for _, id := range picked {
		x, ok := byID[id]
		switch {
		case id <= MaxReservedID:
			f.fail(4008, id)
			continue
		case !ok || gone[id]:
			f.fail(missing, id)
			continue
		}
		v, err := remove(id, x)
		if err != nil {
			return nil, err
		}
		gone[id] = true
		out = append(out, v)
	}
	return out, nil
}
