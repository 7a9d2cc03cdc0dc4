package core

// RoleDetail is a role with its policies and rules expanded.
type RoleDetail struct {
	Role
	Policies []Policy
	Rules    []Rule
}

// MeView is the caller of GET /security/users/me.
type MeView struct {
	User  User
	Roles []RoleDetail
}

// Me returns the session's user with the roles its token carries (for a
// run_as token, the roles its authorization context matched).
func (s *Security) Me(sess *Session) (MeView, error) {
	snap := s.snap.Load()
	u, ok := snap.usersByName[sess.Username]
	if !ok {
		return MeView{}, E(5001)
	}
	v := MeView{User: *u}
	for _, id := range sess.Claims.RBACRoles {
		r, ok := snap.rolesByID[id]
		if !ok {
			continue
		}
		d := RoleDetail{Role: *r}
		for _, pid := range snap.rolePolicies[id] {
			d.Policies = append(d.Policies, *snap.policiesByID[pid])
		}
		for _, rid := range snap.roleRules[id] {
			d.Rules = append(d.Rules, *snap.rulesByID[rid])
		}
		v.Roles = append(v.Roles, d)
	}
	return v, nil
}
