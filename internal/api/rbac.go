package api

import (
	"errors"
	"strconv"
	"sync"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// authorize runs check i of the route's declared access for the request's
// ids (a parameter missing from ids was not supplied, which is how "all"
// reaches the engine). A call the engine forbids is Wazuh's 403 (4000).
func (c *call) authorize(i int, ids map[string][]string) (rbac.Decision, error) {
	check := c.access.Checks[i]
	d, err := c.sess.Perms.Decide(check, ids, nil)
	if err != nil { // *rbac.EvalError: a state Wazuh answers with a 500
		return d, core.Internal(err)
	}
	if d.Forbidden {
		return d, c.forbidden(d.DeniedType)
	}
	return d, nil
}

// requireResourceless answers 403 unless the caller passes the route's
// first check, which names an action on no resource (Wazuh's "*:*:*").
func (c *call) requireResourceless() error {
	_, err := c.authorize(0, nil)
	return err
}

// forbidden is Wazuh's 403 for a resource type the caller may not touch.
func (c *call) forbidden(resourceType string) *core.Error {
	e := denied(resourceType)
	e.Node = c.node()
	return e
}

// node is the node name Wazuh shows under dapi_errors: the real one only
// when the caller may read this cluster node.
func (c *call) node() string {
	n := c.s.cfg.Manager.NodeName
	if c.sess != nil && !c.sess.Perms.Can("cluster:read", "node:id:"+n) {
		return "unknown-node"
	}
	return n
}

// framework wraps a handler whose errors Wazuh raises inside its framework:
// their dapi_errors carry the node name the caller may see.
func framework(h func(c *call) error) func(c *call) error {
	return func(c *call) error {
		err := h(c)
		var e *core.Error
		if errors.As(err, &e) && e.Code != 0 && !e.Local && e.Node == "" {
			cp := *e
			cp.Node = c.node()
			return &cp
		}
		return err
	}
}

// reportDenied adds a failed item 4000 for every explicit id the decision
// refused on target param.
func reportDenied(b *core.Bulk, d rbac.Decision, param string) {
	t := d.Target(param)
	if t == nil || !d.ReportDenied {
		return
	}
	for _, id := range t.Denied {
		b.Fail(denied(t.Type), rbac.DeniedID(t.Type, id))
	}
}

// allowFunc turns a target's filter into a fast id test. The engine keeps
// one rule per id, so the rules become a map lookup (a rule value that is
// not an id's canonical text can never match one). The map is kept per
// filter: the engine's filters live as long as the token's permissions.
func allowFunc(t *rbac.Target) func(id int) bool {
	if t == nil {
		return func(int) bool { return true }
	}
	f := t.Filter
	switch {
	case f.All():
		return func(int) bool { return true }
	case f.None():
		return func(int) bool { return false }
	}
	for _, r := range f.Rules {
		if r.Group {
			return func(id int) bool { return f.Allows(strconv.Itoa(id), nil) }
		}
	}
	rules := filterMaps.get(f)
	return func(id int) bool {
		if allow, ok := rules[id]; ok {
			return allow
		}
		return f.Default
	}
}

// filterMapCache keeps the id maps of recent filters, keyed by their rules.
type filterMapCache struct {
	mu sync.Mutex
	m  map[*rbac.FilterRule]map[int]bool
}

var filterMaps = &filterMapCache{m: map[*rbac.FilterRule]map[int]bool{}}

func (c *filterMapCache) get(f rbac.Filter) map[int]bool {
	key := &f.Rules[0]
	c.mu.Lock()
	rules, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return rules
	}
	rules = make(map[int]bool, len(f.Rules))
	for _, r := range f.Rules {
		if n, err := strconv.Atoi(r.Value); err == nil && strconv.Itoa(n) == r.Value {
			rules[n] = r.Allow
		}
	}
	c.mu.Lock()
	if len(c.m) >= 256 {
		clear(c.m)
	}
	c.m[key] = rules
	c.mu.Unlock()
	return rules
}
