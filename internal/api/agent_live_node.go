package api

import "github.com/go-chi/chi/v5"

// onAgentNode answers an operation that needs the agent itself on the node
// the agent is connected to (see onNodeOf).
func onAgentNode(local func(c *call) error) func(c *call) error {
	return onNodeOf(func(c *call) string {
		node, err := c.s.agents.AgentNode(c.r.Context(), chi.URLParam(c.r, "agent_id"))
		if err != nil {
			return ""
		}
		return node
	}, local)
}

// onNamedNode answers an operation on the agents of the node the path
// names ({node_id}) on that node (see onNodeOf).
func onNamedNode(local func(c *call) error) func(c *call) error {
	return onNodeOf(func(c *call) string { return chi.URLParam(c.r, "node_id") }, local)
}

// onNodeOf answers on the node target picks. On a cluster, a request for
// another live node is relayed to it with the caller's token (it checks
// the token and the RBAC again), and the node a request was relayed to
// answers it itself, its answer signed. A node that is not live, or a
// standalone node, answers here.
func onNodeOf(target func(c *call) string, local func(c *call) error) func(c *call) error {
	return func(c *call) error {
		n := c.s.clusterNode()
		if n == nil {
			return local(c)
		}
		// These operations take no body.
		if n.Verify(c.r, nil) { // relayed by another node
			return c.answerLocal(n, nil, local)
		}
		node := target(c)
		if node == "" || node == c.s.cfg.Manager.NodeName {
			return local(c)
		}
		m, ok, err := n.Member(c.r.Context(), node)
		if err != nil || !ok {
			return local(c)
		}
		return c.relay(n, m, c.r.URL.RequestURI(), nil)
	}
}
