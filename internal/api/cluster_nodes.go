package api

import (
	"net"
	"net/url"
	"slices"
	"sync"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/cluster"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// clusterName is the cluster's name: Wazuh's default, as muster has one
// cluster per store.
const clusterName = "wazuh"

// nodeFields are the fields of /cluster/nodes items, in Wazuh's order.
var nodeFields = []string{"name", "type", "version", "ip"}

var nodeList = secList{msgs: [3]string{"All selected nodes information was returned",
	"Some nodes information was not returned", "No information was returned"}, sortFields: nodeFields,
	schema: agentql.NewSchema([]agentql.Field{{Name: "name"}, {Name: "type"}, {Name: "version"}, {Name: "ip"}},
		agentql.Lenient()),
	defaultSort: []agentql.SortField{}, noID: true}

// members lists the live nodes, master first and then by name, as Wazuh
// lists the master before its workers.
func (c *call) members() ([]cluster.Member, error) {
	ms, err := c.s.clusterNode().Members(c.r.Context())
	if err != nil {
		return nil, core.Internal(err)
	}
	slices.SortStableFunc(ms, func(a, b cluster.Member) int {
		if a.Master != b.Master {
			if a.Master {
				return -1
			}
			return 1
		}
		return 0
	})
	return ms, nil
}

// nodeIP is the address a node reaches the others on: its API address's host.
func nodeIP(m cluster.Member) string {
	u, err := url.Parse(m.Address)
	if err != nil || u.Host == "" {
		return m.Address
	}
	if h, _, err := net.SplitHostPort(u.Host); err == nil {
		return h
	}
	return u.Host
}

// selfAccess authorizes the route's first check on this node.
func (c *call) selfAccess() error {
	_, err := c.authorize(0, map[string][]string{"node_id": {c.s.cfg.Manager.NodeName}})
	return err
}

// getClusterLocalInfo is GET /cluster/local/info.
func getClusterLocalInfo(c *call) error {
	if err := c.selfAccess(); err != nil {
		return err
	}
	b := core.NewBulk("All selected information was returned", "", "No information was returned")
	b.Add(Object{{"node", c.s.cfg.Manager.NodeName}, {"cluster", clusterName}, {"type", c.s.nodeType()}})
	writeBulk(c.w, c.r, b)
	return nil
}

// getClusterLocalConfig is GET /cluster/local/config: the cluster section
// as Wazuh's reader fills it. muster's nodes meet over the store and the
// API, so port, bind_addr and nodes keep Wazuh's defaults; the key is
// masked, as Wazuh masks it for callers who may not update the
// configuration (muster's node-to-node key is never shown).
func getClusterLocalConfig(c *call) error {
	if err := c.selfAccess(); err != nil {
		return err
	}
	b := core.NewBulk("All selected information was returned", "", "No information was returned")
	b.Add(Object{{"name", clusterName}, {"node_name", c.s.cfg.Manager.NodeName}, {"node_type", c.s.nodeType()},
		{"key", "*****"}, {"port", 1516}, {"bind_addr", "0.0.0.0"}, {"nodes", []string{"NODE_IP"}},
		{"hidden", "no"}, {"disabled", false}})
	writeBulk(c.w, c.r, b)
	return nil
}

// nodesDecision applies cluster:read to the nodes asked for (nodes_list,
// or every node): the allowed test, and the failed items of explicit
// names refused.
func (c *call) nodesDecision(b *core.Bulk) (func(name string) bool, []string, error) {
	var ids map[string][]string
	asked := listParam(c.q, "nodes_list")
	if c.q.Has("nodes_list") {
		ids = map[string][]string{"node_id": asked}
	}
	d, err := c.authorize(0, ids)
	if err != nil {
		return nil, nil, err
	}
	if b != nil {
		reportDenied(b, d, "node_id")
	}
	return targetAllows(d.Target("node_id")), asked, nil
}

// targetAllows tests a node name against a decision's target: the allowed
// names when the request named some, else the filter.
func targetAllows(t *rbac.Target) func(string) bool {
	switch {
	case t == nil:
		return func(string) bool { return true }
	case t.Explicit:
		return func(name string) bool { return slices.Contains(t.Allowed, name) }
	}
	return func(name string) bool { return t.Filter.Allows(name, nil) }
}

// getClusterNodes is GET /cluster/nodes: the live nodes, filtered by type
// and nodes_list, then searched, queried, sorted, selected and paged as
// Wazuh's get_nodes does. A name of nodes_list that is not a live node is
// a failed item 1730.
func getClusterNodes(c *call) error {
	b := core.NewBulk(nodeList.msgs[0], nodeList.msgs[1], nodeList.msgs[2])
	allow, asked, err := c.nodesDecision(b)
	if err != nil {
		return err
	}
	ms, err := c.members()
	if err != nil {
		return err
	}
	typ := lastParam(c.q, "type")
	live := map[string]bool{}
	items := make([]listItem, 0, len(ms))
	for _, m := range ms {
		live[m.Name] = true
		if !allow(m.Name) || asked != nil && !slices.Contains(asked, m.Name) || typ != "" && m.Type() != typ {
			continue
		}
		ip := nodeIP(m)
		items = append(items, listItem{
			obj: Object{{"name", m.Name}, {"type", m.Type()}, {"version", m.Version}, {"ip", ip}},
			m:   map[string]any{"name": m.Name, "type": m.Type(), "version": m.Version, "ip": ip},
		})
	}
	for _, name := range asked {
		if !live[name] && allow(name) {
			b.Fail(core.E(1730), name)
		}
	}
	page, total, err := c.processList(items, nodeList)
	if err != nil {
		return err
	}
	b.Affected, b.Total = page, total
	writeBulk(c.w, c.r, b)
	return nil
}

// getClusterHealthcheck is GET /cluster/healthcheck: per node its
// information with the agents active on it, and its last heartbeat.
func getClusterHealthcheck(c *call) error {
	b := core.NewBulk("All selected nodes healthcheck information was returned",
		"Some nodes healthcheck information was not returned", "No healthcheck information was returned")
	allow, asked, err := c.nodesDecision(b)
	if err != nil {
		return err
	}
	ms, err := c.members()
	if err != nil {
		return err
	}
	active, err := c.s.activeByNode(c)
	if err != nil {
		return err
	}
	slices.SortFunc(ms, func(a, b cluster.Member) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	for _, m := range ms {
		if !allow(m.Name) || asked != nil && !slices.Contains(asked, m.Name) {
			continue
		}
		b.Add(Object{
			{"info", Object{{"name", m.Name}, {"type", m.Type()}, {"version", m.Version}, {"ip", nodeIP(m)},
				{"n_active_agents", active[m.Name]}}},
			{"status", Object{{"last_keep_alive", m.Heartbeat.UTC().Format("2006-01-02T15:04:05.000000Z")}}},
		})
	}
	writeBulk(c.w, c.r, b)
	return nil
}

// countPerms reads every agent: the healthcheck counts them as Wazuh's
// master does, whatever the caller may read of the agents.
var countPerms = sync.OnceValue(func() *rbac.Permissions {
	p, err := rbac.Compile([]rbac.Role{{Name: "cluster-count", Policies: []rbac.Policy{{Name: "count",
		Actions: []string{"agent:read"}, Resources: []string{"agent:id:*"}, Effect: "allow"}}}}, rbac.White)
	if err != nil {
		panic(err)
	}
	return p
})

// activeByNode counts the active agents (but 000) of each node.
func (s *Server) activeByNode(c *call) (map[string]int, error) {
	out := map[string]int{}
	if s.agents == nil {
		return out, nil
	}
	p, err := s.agents.Distinct(c.r.Context(), countPerms(), []string{"node_name"},
		core.AgentQuery{Q: "status=active;id!=000", Limit: core.MaxAgentLimit})
	if err != nil {
		return nil, core.Internal(err)
	}
	for _, r := range p.Rows {
		if len(r.Values) > 0 && r.Values[0].Valid {
			out[r.Values[0].V] += r.Count
		}
	}
	return out, nil
}
