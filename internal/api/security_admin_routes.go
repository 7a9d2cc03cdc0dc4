package api

import (
	"net/http"

	"github.com/muster-project/muster/internal/rbac"
)

// securityAdminRoutes are the users, roles, policies, rules and RBAC
// catalogue endpoints, and the authorization-context login. Each declares
// its RBAC as Wazuh's x-rbac-actions and expose_resources decorators do
// (security.md §5.6); handlers run those checks in order.
func securityAdminRoutes() []route {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	ids := func(name string) param { return pList(name, "numbers", reNumbers).req() }
	idsOrAll := func(name string) param { return pList(name, "numbers_or_all", reNumbersOrAll).req() }
	with := func(ps ...param) []param { return append(ps, pretty, waitForComplete) }
	pos := pInt("position", 0, 0)
	need, require := rbac.Need, rbac.Require
	return []route{
		{get, "/security/actions", bearerAuth, []param{pString("endpoint", "", nil), pretty}, getRBACActions,
			rbac.Requirement{}},
		{get, "/security/resources", bearerAuth, []param{resourceParam(), pretty}, getRBACResources,
			rbac.Requirement{}},
		{post, "/security/user/authenticate/run_as", basicAuth, []param{pBool("raw")}, runAsLogin,
			rbac.Requirement{}},

		{get, "/security/users", bearerAuth, listParams("user_ids"), framework(getUsers),
			require(need("security:read", "user:id:{user_ids}"))},
		{post, "/security/users", bearerAuth, std, framework(postUser),
			require(need("security:create_user", "*:*:*"))},
		{del, "/security/users", bearerAuth, with(idsOrAll("user_ids")), framework(deleteUsers),
			require(need("security:delete", "user:id:{user_ids}"))},
		{put, "/security/users/{user_id}", bearerAuth, std, framework(putUser),
			require(need("security:update", "user:id:{user_id}"))},
		{put, "/security/users/{user_id}/run_as", bearerAuth, with(pBool("allow_run_as")), framework(putUserRunAs),
			require(need("security:edit_run_as", "*:*:*"))},
		{post, "/security/users/{user_id}/roles", bearerAuth, with(idsOrAll("role_ids"), pos),
			framework(postUserRoles), require(need("security:update", "user:id:{user_id}", "role:id:{role_ids}"))},
		{del, "/security/users/{user_id}/roles", bearerAuth, with(idsOrAll("role_ids")), framework(deleteUserRoles),
			require(need("security:delete", "user:id:{user_id}"), need("security:delete", "role:id:{role_ids}"))},

		{get, "/security/roles", bearerAuth, listParams("role_ids"), framework(getRoles),
			require(need("security:read", "role:id:{role_ids}"))},
		{post, "/security/roles", bearerAuth, std, framework(postRole),
			require(need("security:create", "*:*:*"))},
		{del, "/security/roles", bearerAuth, with(idsOrAll("role_ids")), framework(deleteRoles),
			require(need("security:delete", "role:id:{role_ids}"))},
		{put, "/security/roles/{role_id}", bearerAuth, std, framework(putRole),
			require(need("security:update", "role:id:{role_id}"))},
		{post, "/security/roles/{role_id}/policies", bearerAuth, with(ids("policy_ids"), pos),
			framework(postRolePolicies), require(need("security:update", "role:id:{role_id}", "policy:id:{policy_ids}"))},
		{del, "/security/roles/{role_id}/policies", bearerAuth, with(idsOrAll("policy_ids")),
			framework(deleteRolePolicies),
			require(need("security:delete", "role:id:{role_id}"), need("security:delete", "policy:id:{policy_ids}"))},
		{post, "/security/roles/{role_id}/rules", bearerAuth, with(ids("rule_ids")), framework(postRoleRules),
			require(need("security:update", "role:id:{role_id}", "rule:id:{rule_ids}"))},
		{del, "/security/roles/{role_id}/rules", bearerAuth, with(idsOrAll("rule_ids")), framework(deleteRoleRules),
			require(need("security:delete", "role:id:{role_id}"), need("security:delete", "rule:id:{rule_ids}"))},

		{get, "/security/rules", bearerAuth, listParams("rule_ids"), framework(getRules),
			require(need("security:read", "rule:id:{rule_ids}"))},
		{post, "/security/rules", bearerAuth, std, framework(postRule),
			require(need("security:create", "*:*:*"))},
		{del, "/security/rules", bearerAuth, with(idsOrAll("rule_ids")), framework(deleteRules),
			require(need("security:delete", "rule:id:{rule_ids}"))},
		{put, "/security/rules/{rule_id}", bearerAuth, std, framework(putRule),
			require(need("security:update", "rule:id:{rule_id}"))},

		{get, "/security/policies", bearerAuth, listParams("policy_ids"), framework(getPolicies),
			require(need("security:read", "policy:id:{policy_ids}"))},
		{post, "/security/policies", bearerAuth, std, framework(postPolicy),
			require(need("security:create", "*:*:*"))},
		{del, "/security/policies", bearerAuth, with(idsOrAll("policy_ids")), framework(deletePolicies),
			require(need("security:delete", "policy:id:{policy_ids}"))},
		{put, "/security/policies/{policy_id}", bearerAuth, std, framework(putPolicy),
			require(need("security:update", "policy:id:{policy_id}"))},
	}
}
