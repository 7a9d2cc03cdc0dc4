package core

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/muster-project/muster/internal/auth"
	"github.com/muster-project/muster/internal/rbac"
)

// LoginRunAs is POST /security/user/authenticate/run_as: it checks the
// credentials like Login (bad ones are ErrInvalidCredentials), then reads
// the authorization context with body, which may fail with the request's
// validation error, and issues a run_as token. For a non-empty context (a
// JSON object) the roles are those whose security rules match it, and only
// users with allow_run_as may do this (6004); for "{}" they are the user's
// own roles.
//
// Unlike Wazuh, a rule whose evaluation fails (a regular expression applied
// to a number, a list Python cannot sort) does not fail the whole login
// with a 500: that role is simply not granted.
func (s *Security) LoginRunAs(ctx context.Context, username, password string,
	body func() (json.RawMessage, error)) (string, error) {
	snap, user, err := s.checkCredentials(ctx, username, password)
	if err != nil {
		return "", err
	}
	authContext, err := body()
	if err != nil {
		return "", err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(authContext, &fields); err != nil {
		return "", Internal(err)
	}
	hash, err := auth.HashAuthContext(authContext)
	if err != nil {
		return "", Internal(err)
	}
	if len(fields) == 0 {
		return s.issue(ctx, snap, user.Username, snap.userRoles[user.ID], true, hash)
	}
	if !user.AllowRunAs {
		return "", E(6004)
	}
	roles := []int{}
	for _, r := range snap.data.Roles {
		rr := rbac.RoleWithRules{ID: r.ID}
		for _, id := range snap.roleRules[r.ID] {
			rr.Rules = append(rr.Rules, rbac.SecurityRule{ID: id, Rule: snap.rulesByID[id].Body})
		}
		if len(rr.Rules) == 0 {
			continue
		}
		got, err := rbac.RolesForContext([]rbac.RoleWithRules{rr}, user.ID, authContext)
		var evalErr *rbac.EvalError
		switch {
		case errors.As(err, &evalErr) || errors.Is(err, rbac.ErrRuleSyntax):
			s.log.Warn("run_as: security rule evaluation failed; role not granted", "role", r.ID, "err", err)
		case err != nil:
			return "", Internal(err)
		default:
			roles = append(roles, got...)
		}
	}
	return s.issue(ctx, snap, user.Username, roles, true, hash)
}
