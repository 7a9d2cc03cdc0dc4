package api

// agentRoutes are the agent registry's endpoints.
func agentRoutes() []route {
	return nil
}

// groupRoutes are the groups' endpoints.
func groupRoutes() []route {
	return nil
}
