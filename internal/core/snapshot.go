package core

import (
	"sort"
	"sync"
)

// snapshot is an immutable, indexed view of SecurityData. Reads never touch
// the database; every write builds a new snapshot. The one mutable part,
// misses, only remembers which refused tokens were already looked up in the
// store for this snapshot (Security.catchUp).
type snapshot struct {
	missMu       sync.Mutex
	misses       map[string]bool
	data         *SecurityData
	usersByName  map[string]*User
	usersByID    map[int]*User
	rolesByID    map[int]*Role
	policiesByID map[int]*Policy
	rulesByID    map[int]*Rule
	userRoles    map[int][]int // user → roles by position
	rolePolicies map[int][]int // role → policies by position
	roleRules    map[int][]int // role → rules in storage order
	roleUsers    map[int][]int // role → users in storage order
	policyRoles  map[int][]int // policy → roles in storage order
	ruleRoles    map[int][]int // rule → roles in storage order
}

func newSnapshot(d *SecurityData) *snapshot {
	s := &snapshot{
		data:         d,
		usersByName:  make(map[string]*User, len(d.Users)),
		usersByID:    make(map[int]*User, len(d.Users)),
		rolesByID:    make(map[int]*Role, len(d.Roles)),
		policiesByID: make(map[int]*Policy, len(d.Policies)),
		rulesByID:    make(map[int]*Rule, len(d.Rules)),
	}
	for i := range d.Users {
		s.usersByName[d.Users[i].Username] = &d.Users[i]
		s.usersByID[d.Users[i].ID] = &d.Users[i]
	}
	for i := range d.Roles {
		s.rolesByID[d.Roles[i].ID] = &d.Roles[i]
	}
	for i := range d.Policies {
		s.policiesByID[d.Policies[i].ID] = &d.Policies[i]
	}
	for i := range d.Rules {
		s.rulesByID[d.Rules[i].ID] = &d.Rules[i]
	}
	s.userRoles, s.roleUsers = index(d.UserRoles, true)
	s.rolePolicies, s.policyRoles = index(d.RolePolicies, true)
	s.roleRules, s.ruleRoles = index(d.RoleRules, false)
	return s
}

// index groups links by their source (ordered by level, then storage order,
// when byLevel) and by their target (storage order).
func index(links []Link, byLevel bool) (from, to map[int][]int) {
	ordered := append([]Link(nil), links...)
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].ID < ordered[j].ID })
	to = map[int][]int{}
	for _, l := range ordered {
		to[l.To] = append(to[l.To], l.From)
	}
	if byLevel {
		sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].Level < ordered[j].Level })
	}
	from = map[int][]int{}
	for _, l := range ordered {
		from[l.From] = append(from[l.From], l.To)
	}
	return from, to
}
