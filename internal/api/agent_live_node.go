package api

import "github.com/go-chi/chi/v5"

// onAgentNode answers an operation that needs the agent itself on the node
// the agent is connected to. On a cluster, a request for an agent another
// live node holds is relayed to that node with the caller's token (it
// checks the token and the RBAC again), and the node a request was relayed
// to answers it itself, its answer signed. An agent whose node is not live
// is answered here, as not connected.
func onAgentNode(local func(c *call) error) func(c *call) error {
	return func(c *call) error {
		n := c.s.clusterNode()
		if n == nil {
			return local(c)
		}
		if n.Verify(c.r, nil) { // relayed by another node
			return c.answerLocal(n, nil, local)
		}
		node, err := c.s.agents.AgentNode(c.r.Context(), chi.URLParam(c.r, "agent_id"))
		if err != nil || node == "" || node == c.s.cfg.Manager.NodeName {
			return local(c)
		}
		m, ok, err := n.Member(c.r.Context(), node)
		if err != nil || !ok {
			return local(c)
		}
		return c.relay(n, m, c.r.URL.RequestURI(), nil)
	}
}
