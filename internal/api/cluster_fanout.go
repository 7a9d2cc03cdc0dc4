package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"

	"github.com/muster-project/muster/internal/cluster"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// fanSpec is an operation Wazuh's master distributes to the nodes of
// nodes_list (every node by default) and whose answers it merges: each
// node answers for itself.
type fanSpec struct {
	msgs   [3]string
	status int
	// local adds this node's item, or its failure, to b.
	local func(c *call, b *core.Bulk)
	// remote, when false, lets this node answer for every live node (what
	// it reports is the same on all of them).
	remote bool
	// item, for a spec that is not remote, is a live node's item.
	item func(m cluster.Member) any
	// access, when set, replaces the route's checks: what Wazuh's
	// framework checks on each node, where the document declares less.
	access *rbac.Requirement
}

var rulesetSync = fanSpec{msgs: [3]string{"Nodes ruleset synchronization status was successfully read",
	"Could not read ruleset synchronization status in some nodes", "Could not read ruleset synchronization status"},
	status: http.StatusOK,
	// muster has no custom ruleset to drift between nodes: every node has
	// the master's (empty) one.
	item: func(m cluster.Member) any { return Object{{"name", m.Name}, {"synced", true}} }}

// apiConfigs is GET /cluster/api/config. The document declares
// cluster:read_api_config on *:*:*; Wazuh's function checks it on each
// node (node:id:<name>), as the default policies grant it.
var apiConfigs = fanSpec{msgs: [3]string{"API configuration was successfully read in all specified nodes",
	"Not all API configurations could be read", "Could not read API configuration in any node"},
	status: http.StatusOK, remote: true,
	access: &readAPIConfig,
	local: func(c *call, b *core.Bulk) {
		b.Add(Object{{"node_name", c.s.cfg.Manager.NodeName},
			{"node_api_config", apiConfObject(c.s.cfg.API, c.s.nodeInfo().Path)}})
	}}

var readAPIConfig = rbac.Require(rbac.Need("cluster:read_api_config", "node:id:{node_id}"))

var validations = fanSpec{msgs: [3]string{"Validation was successfully checked in all nodes",
	"Could not check validation in some nodes", "Could not check validation in any node"},
	status: http.StatusOK, remote: true,
	local: func(c *call, b *core.Bulk) {
		name := c.s.cfg.Manager.NodeName
		if e := c.s.checkStored(); e != nil {
			b.Fail(e, name)
			return
		}
		b.Add(Object{{"name", name}, {"status", "OK"}})
	}}

// restarts is PUT /cluster/restart: each node checks its stored
// configuration and restarts its daemons in the background, as PUT
// /manager/restart does on one node.
var restarts = fanSpec{msgs: [3]string{"Restart request sent to all specified nodes",
	"Could not send restart request to some specified nodes", "Could not send restart request to any node"},
	status: http.StatusAccepted, remote: true,
	local: func(c *call, b *core.Bulk) {
		name := c.s.cfg.Manager.NodeName
		restart := c.s.nodeInfo().Restart
		if restart == nil {
			b.Fail(updErr(1901, ""), name)
			return
		}
		if err := restart(); err != nil {
			b.Fail(ossecErr(err, false), name)
			return
		}
		b.Add(name)
	}}

// fanOut serves a distributed operation. A signed call from another node
// is answered for this node alone, signed.
func fanOut(spec fanSpec) func(c *call) error {
	return func(c *call) error {
		n := c.s.clusterNode()
		b := core.NewBulk(spec.msgs[0], spec.msgs[1], spec.msgs[2])
		if spec.access != nil {
			c.access = *spec.access
		}
		if spec.remote && n.Verify(c.r, nil) {
			self := c.s.cfg.Manager.NodeName
			if err := c.nodeChecks(map[string][]string{"node_id": {self}}); err == nil {
				spec.local(c, b)
			} else if e, ok := err.(*core.Error); ok {
				b.Fail(e, self)
			} else {
				return err
			}
			body, err := encode(bulkObject(b), isPretty(c.r, false))
			if err != nil {
				return core.Internal(err)
			}
			c.w.Header().Set(cluster.HeaderReply, n.SignReply(c.r, spec.status, body))
			writeStatus(c, spec.status, body)
			return nil
		}
		allow, err := c.fanDecision(b)
		if err != nil {
			return err
		}
		ms, err := c.members()
		if err != nil {
			return err
		}
		live := map[string]cluster.Member{}
		for _, m := range ms {
			live[m.Name] = m
		}
		var names []string
		if c.q.Has("nodes_list") {
			for _, name := range listParam(c.q, "nodes_list") {
				if !slices.Contains(names, name) {
					names = append(names, name)
				}
			}
		} else {
			for _, m := range ms {
				names = append(names, m.Name)
			}
		}
		slices.Sort(names)
		parts := make([]*core.Bulk, len(names))
		var wg sync.WaitGroup
		for i, name := range names {
			if !allow(name) {
				continue
			}
			part := core.NewBulk("", "", "")
			parts[i] = part
			m, ok := live[name]
			switch {
			case !ok:
				part.Fail(unknownNode(), name)
			case !spec.remote:
				part.Add(spec.item(m))
			case name == c.s.cfg.Manager.NodeName:
				spec.local(c, part)
			default:
				wg.Add(1)
				go func() {
					defer wg.Done()
					c.askNode(n, m, part)
				}()
			}
		}
		wg.Wait()
		for _, p := range parts {
			if p == nil {
				continue
			}
			b.Affected = append(b.Affected, p.Affected...)
			for _, g := range p.FailedGroups() {
				for _, id := range g.IDs {
					b.Fail(g.Err, id)
				}
			}
		}
		body, err := encode(bulkObject(b), isPretty(c.r, false))
		if err != nil {
			return core.Internal(err)
		}
		writeStatus(c, spec.status, body)
		return nil
	}
}

func writeStatus(c *call, status int, body []byte) {
	c.w.Header().Set("Content-Type", contentJSON)
	c.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(status)
	c.w.Write(body)
}

// nodeChecks runs every check of the route for ids.
func (c *call) nodeChecks(ids map[string][]string) error {
	for i := range c.access.Checks {
		if _, err := c.authorize(i, ids); err != nil {
			return err
		}
	}
	return nil
}

// fanDecision applies every check of the route to the nodes asked for:
// the allowed test, with failed items 4000 for explicit names refused.
func (c *call) fanDecision(b *core.Bulk) (func(string) bool, error) {
	var ids map[string][]string
	if c.q.Has("nodes_list") {
		ids = map[string][]string{"node_id": listParam(c.q, "nodes_list")}
	}
	var tests []func(string) bool
	for i := range c.access.Checks {
		d, err := c.authorize(i, ids)
		if err != nil {
			return nil, err
		}
		reportDenied(b, d, "node_id")
		tests = append(tests, targetAllows(d.Target("node_id")))
	}
	return func(name string) bool {
		for _, ok := range tests {
			if !ok(name) {
				return false
			}
		}
		return true
	}, nil
}

// askNode asks node m for its part of the request (nodes_list naming it
// alone) and merges its answer into part.
func (c *call) askNode(n *cluster.Node, m cluster.Member, part *core.Bulk) {
	q := url.Values{}
	for k, vs := range c.q {
		if k != "nodes_list" && k != "pretty" {
			q[k] = vs
		}
	}
	q.Set("nodes_list", m.Name)
	rep, err := c.callPeer(n, m, c.r.URL.Path+"?"+q.Encode(), nil)
	if err != nil {
		part.Fail(err.(*core.Error), m.Name)
		return
	}
	if rep.Status >= 300 {
		var p struct {
			Detail      string `json:"detail"`
			Remediation string `json:"remediation"`
			Error       int    `json:"error"`
		}
		json.Unmarshal(rep.Body, &p)
		part.Fail(&core.Error{Code: p.Error, Status: rep.Status, Detail: p.Detail, Remediation: p.Remediation}, m.Name)
		return
	}
	var env struct {
		Data struct {
			Affected []json.RawMessage `json:"affected_items"`
			Failed   []struct {
				Error struct {
					Code        int    `json:"code"`
					Message     string `json:"message"`
					Remediation string `json:"remediation"`
				} `json:"error"`
				IDs []any `json:"id"`
			} `json:"failed_items"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rep.Body, &env); err != nil {
		part.Fail(peerError(err), m.Name)
		return
	}
	for _, it := range env.Data.Affected {
		part.Add(it)
	}
	for _, f := range env.Data.Failed {
		e := &core.Error{Code: f.Error.Code, Detail: f.Error.Message, Remediation: f.Error.Remediation}
		for _, id := range f.IDs {
			part.Fail(e, id)
		}
	}
}
