package api

// securityAdminRoutes are the users, roles, policies, rules and RBAC
// catalogue endpoints.
func securityAdminRoutes() []route {
	return nil
}
