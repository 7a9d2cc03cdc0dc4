package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/muster-project/muster/internal/cluster"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// unknownNode is Wazuh's answer for a node the cluster does not have
// connected: 3022, which its master turns into a client error.
func unknownNode() *core.Error {
	return &core.Error{Code: 3022, Status: 400, Detail: "Unknown node ID", Remediation: "Check the name of the node"}
}

// peerError is the answer when a live node could not be asked: 3021 when
// the call timed out, 3032 when no connection could be made or its answer
// was not signed with the cluster key.
func peerError(err error) *core.Error {
	if errors.Is(err, context.DeadlineExceeded) {
		e := core.E(3021)
		e.Err = err
		return e
	}
	return &core.Error{Code: 3032, Status: 500, Detail: "Could not forward DAPI request. Connection not available.",
		Err: err}
}

// peerTimeout bounds a call to another node: api.yaml's request_timeout,
// or none with wait_for_complete.
func (c *call) peerTimeout() time.Duration {
	if boolParam(c.q, "wait_for_complete") {
		return 10 * time.Minute
	}
	if t := c.s.cfg.API.Intervals.RequestTimeout; t > 0 {
		return time.Duration(t * float64(time.Second))
	}
	return 10 * time.Second
}

// onNode serves /cluster/{node_id}/...: this node's data from the /manager
// handler local, another live node's from that node, over a signed call
// that carries the caller's token (the node checks it and its RBAC
// again). A node that is not live is 3022, once the caller is known to
// be allowed to read it.
func onNode(local func(c *call) error) func(c *call) error {
	return func(c *call) error {
		target := chi.URLParam(c.r, "node_id")
		ids := map[string][]string{"node_id": {target}}
		checks := func() error {
			for i := range c.access.Checks {
				if _, err := c.authorize(i, ids); err != nil {
					return err
				}
			}
			return nil
		}
		var body []byte
		if c.r.Method == http.MethodPut {
			b, err := c.body()
			if err != nil {
				return err
			}
			body = b
			c.r.Body = io.NopCloser(bytes.NewReader(b))
		}
		n := c.s.clusterNode()
		if target == c.s.cfg.Manager.NodeName {
			return c.answerLocal(n, body, func(c *call) error {
				if err := checks(); err != nil {
					return err
				}
				c.access = staticNodeAccess(c.access, c.s.cfg.Manager.NodeName)
				return local(c)
			})
		}
		if err := checks(); err != nil {
			return err
		}
		m, ok, err := n.Member(c.r.Context(), target)
		if err != nil {
			return core.Internal(err)
		}
		if !ok {
			return unknownNode()
		}
		return c.relay(n, m, c.r.URL.RequestURI(), body)
	}
}

// answerLocal runs a /manager handler for this node with the access of
// the cluster route it serves, in cluster form; a call from another node
// gets its answer signed.
func (c *call) answerLocal(n *cluster.Node, body []byte, local func(c *call) error) error {
	verified := n.Verify(c.r, body)
	w := c.w
	buf := newBuffered()
	c.w = buf
	err := local(c)
	c.w = w
	if err != nil {
		if !verified {
			return err
		}
		var e *core.Error
		if errors.As(err, &e) && e.Code != 0 && !e.Local && e.Node == "" {
			cp := *e
			cp.Node = c.node()
			err = &cp
		}
		buf = newBuffered()
		writeError(buf, c.r, err)
	}
	out := buf.body.Bytes()
	if strings.HasPrefix(buf.header.Get("Content-Type"), "application/json") {
		out = withClusterForm(buf.status, out)
	}
	if verified {
		buf.header.Set(cluster.HeaderReply, n.SignReply(c.r, buf.status, out))
	}
	buf.flush(w, out)
	return nil
}

// staticNodeAccess fixes the {node_id} of a cluster route's checks to
// this node, for the /manager handler that asks for resourceless checks.
func staticNodeAccess(r rbac.Requirement, name string) rbac.Requirement {
	checks := make([]rbac.Check, 0, len(r.Checks))
	for _, ch := range r.Checks {
		nc, err := rbac.NewCheck(ch.Actions, "node:id:"+name)
		if err != nil {
			return r
		}
		checks = append(checks, nc)
	}
	return rbac.Require(checks...)
}

// relay asks node m for uri on the caller's behalf and sends its answer on.
func (c *call) relay(n *cluster.Node, m cluster.Member, uri string, body []byte) error {
	rep, err := c.callPeer(n, m, uri, body)
	if err != nil {
		return err
	}
	for _, k := range []string{"Content-Type"} {
		if v := rep.Header.Get(k); v != "" {
			c.w.Header().Set(k, v)
		}
	}
	buf := newBuffered()
	buf.status = rep.Status
	buf.flush(c.w, rep.Body)
	return nil
}

// callPeer sends the request's method to node m for uri with the caller's
// token.
func (c *call) callPeer(n *cluster.Node, m cluster.Member, uri string, body []byte) (*cluster.Reply, error) {
	h := http.Header{}
	for _, k := range []string{"Authorization", "Content-Type"} {
		if v := c.r.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), c.peerTimeout())
	defer cancel()
	rep, err := n.Call(ctx, m, c.r.Method, uri, h, body)
	if err != nil {
		c.s.log.Warn("cluster: a call to another node failed", "node", m.Name, "err", err)
		return nil, peerError(err)
	}
	return rep, nil
}
