package api

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// routes is the route table: every endpoint muster serves, its
// authentication and its declared query parameters.
func routes() []route {
	var rs []route
	for _, area := range [][]route{rootRoutes(), authRoutes(), securityConfigRoutes(), securityAdminRoutes(),
		agentRoutes(), groupRoutes(), clusterManagerRoutes(), clusterRoutes(), unsupportedRoutes()} {
		rs = append(rs, area...)
	}
	return rs
}

// clusterManagerRoutes are the /manager routes, each answering in its
// cluster form (permissions on node:id:<name>, cluster messages) when the
// node is part of a cluster, as Wazuh's manager functions do.
func clusterManagerRoutes() []route {
	rs := managerRoutes()
	for i := range rs {
		rs[i].handle = asClusterNode(rs[i].handle)
	}
	return rs
}

func rootRoutes() []route {
	return []route{{http.MethodGet, "/", bearerAuth, []param{pretty}, getRoot, rbac.Requirement{}}}
}

func authRoutes() []route {
	raw := []param{pBool("raw")}
	return []route{
		{http.MethodPost, "/security/user/authenticate", basicAuth, raw, login, rbac.Requirement{}},
		{http.MethodGet, "/security/user/authenticate", basicAuth, raw, deprecatedLogin, rbac.Requirement{}},
		{http.MethodDelete, "/security/user/authenticate", bearerAuth, nil, logout, rbac.Requirement{}},
		{http.MethodPut, "/security/user/revoke", bearerAuth, nil, revokeAll,
			rbac.Require(rbac.Need("security:revoke", "*:*:*"))},
		{http.MethodGet, "/security/users/me", bearerAuth, std, getUserMe, rbac.Requirement{}},
		{http.MethodGet, "/security/users/me/policies", bearerAuth, []param{pretty}, getUserMePolicies, rbac.Requirement{}},
	}
}

func securityConfigRoutes() []route {
	return []route{
		{http.MethodGet, "/security/config", bearerAuth, std, getSecurityConfig,
			rbac.Require(rbac.Need("security:read_config", "*:*:*"))},
		{http.MethodPut, "/security/config", bearerAuth, std, putSecurityConfig,
			rbac.Require(rbac.Need("security:update_config", "*:*:*"))},
		{http.MethodDelete, "/security/config", bearerAuth, std, deleteSecurityConfig,
			rbac.Require(rbac.Need("security:update_config", "*:*:*"))},
	}
}

var unsupportedPrefixes = []string{"/rules", "/decoders", "/lists", "/syscheck", "/sca", "/syscollector",
	"/rootcheck", "/ciscat", "/mitre", "/logtest", "/events", "/vulnerability", "/experimental",
	"/active-response", "/tasks"}

func notSupported(c *call) error {
	area := strings.SplitN(strings.TrimPrefix(c.r.URL.Path, "/"), "/", 2)[0]
	return core.Problem(501, "Not Implemented",
		"muster does not implement the analysis engine: /"+area+" endpoints are not supported. "+
			"See docs/compatibility.md for the endpoints muster serves.")
}

// Formats of Wazuh's OpenAPI document used by the parameters.
var (
	reNumbers = regexp.MustCompile(`^\d+$`)
	reNames   = regexp.MustCompile(`^[\w\-.%]+$`)
)
