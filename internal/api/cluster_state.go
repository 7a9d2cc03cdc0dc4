package api

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/cluster"
	"github.com/muster-project/muster/internal/rbac"
)

// JoinCluster makes the server answer as a node of n's cluster: the
// /cluster API enabled, the manager endpoints in their cluster forms, and
// other nodes' data fetched from them over signed calls. Call it before
// serving.
func (s *Server) JoinCluster(n *cluster.Node) {
	if n != nil {
		s.member.Store(n)
	}
}

// LeaveCluster forgets the membership (the server answers standalone).
func (s *Server) LeaveCluster() { s.member.Store(nil) }

// clusterNode is the node's membership; nil on a standalone node.
func (s *Server) clusterNode() *cluster.Node { return s.member.Load() }

// clusterForms are the messages Wazuh's manager functions switch to when
// the cluster is enabled (they test node_id != 'manager').
var clusterForms = func() map[string]string {
	m := map[string]string{"Restart request sent to ": "Restart request sent to all specified nodes"}
	for _, s := range []string{"Processes status was successfully read", "Could not read processes status",
		"Logs were successfully read", "Could not read logs", "Log was successfully summarized",
		"Could not summarize the log", "Active configuration was successfully read",
		"Could not read active configuration", "Configuration was successfully read", "Could not read configuration",
		"Basic information was successfully read", "Could not read basic information",
		"Configuration was successfully updated", "Could not update configuration"} {
		m[s] = s + " in specified node"
	}
	m["API configuration was successfully read"] = "API configuration was successfully read in all specified nodes"
	m["Could not read API configuration"] = "Could not read API configuration in any node"
	m["Validation was successfully checked"] = "Validation was successfully checked in all nodes"
	m["Could not check validation"] = "Could not check validation in any node"
	return m
}()

// bufferedWriter holds an answer so that it can be rewritten or signed
// before it is sent.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBuffered() *bufferedWriter { return &bufferedWriter{header: http.Header{}} }

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

// flush sends the held answer to w with body.
func (b *bufferedWriter) flush(w http.ResponseWriter, body []byte) {
	for k, vs := range b.header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	w.Write(body)
}

// withClusterForm rewrites the envelope's message of a successful answer
// into its cluster form.
func withClusterForm(status int, body []byte) []byte {
	if status >= 300 {
		return body
	}
	const key = `"message": "`
	i := bytes.LastIndex(body, []byte(key))
	if i < 0 {
		return body
	}
	start := i + len(key)
	end := bytes.IndexByte(body[start:], '"')
	if end < 0 {
		return body
	}
	form, ok := clusterForms[string(body[start:start+end])]
	if !ok {
		return body
	}
	out := make([]byte, 0, len(body)+32)
	out = append(out, body[:start]...)
	out = append(out, form...)
	return append(out, body[start+end:]...)
}

// asClusterNode runs a /manager handler as Wazuh's framework does on a
// cluster node: its permissions are the cluster's on this node
// (manager:read becomes cluster:read on node:id:<name>) and its messages
// take their cluster forms. A standalone node runs it unchanged.
func asClusterNode(h func(c *call) error) func(c *call) error {
	return func(c *call) error {
		if c.s.clusterNode() == nil {
			return h(c)
		}
		c.access = nodeAccess(c.access, c.s.cfg.Manager.NodeName)
		return c.clusterForm(h)
	}
}

// clusterForm runs h with its answer held, and sends it in cluster form.
func (c *call) clusterForm(h func(c *call) error) error {
	w := c.w
	buf := newBuffered()
	c.w = buf
	err := h(c)
	c.w = w
	if err != nil {
		return err
	}
	body := buf.body.Bytes()
	if strings.HasPrefix(buf.header.Get("Content-Type"), "application/json") {
		body = withClusterForm(buf.status, body)
	}
	buf.flush(w, body)
	return nil
}

// nodeAccess turns a manager endpoint's checks into the cluster ones of
// node name: manager:X on *:*:* becomes cluster:X on node:id:<name>.
func nodeAccess(r rbac.Requirement, name string) rbac.Requirement {
	checks := make([]rbac.Check, 0, len(r.Checks))
	for _, ch := range r.Checks {
		var actions []string
		for _, a := range ch.Actions {
			actions = append(actions, "cluster:"+strings.TrimPrefix(a, "manager:"))
		}
		nc, err := rbac.NewCheck(actions, "node:id:"+name)
		if err != nil { // a node name the resource syntax cannot hold: keep the manager's check
			return r
		}
		checks = append(checks, nc)
	}
	return rbac.Require(checks...)
}

// nodeType is this node's Wazuh node type: a standalone manager is a
// master, a cluster node is one while it holds the master lease.
func (s *Server) nodeType() string {
	if n := s.clusterNode(); n != nil && !n.IsMaster() {
		return "worker"
	}
	return "master"
}
