package api

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/muster-project/muster/internal/core"
)

var (
	reAgentIP  = regexp.MustCompile(`^[\p{L}\p{N}_,*<>!\-.+\s:/()\[\]'"|=~#]+$`)
	reAgentKey = regexp.MustCompile(`^[a-zA-Z0-9]{64}$`)
)

// agentBody reads the fields of a registration body with connexion's
// checks: types and formats first, then unknown keys.
type agentBody struct {
	obj map[string]json.RawMessage
	err error
}

func (b *agentBody) fail(format string, args ...any) {
	if b.err == nil {
		b.err = core.BadRequest(fmt.Sprintf(format, args...))
	}
}

// str reads an optional string that must match re (format names it).
func (b *agentBody) str(obj map[string]json.RawMessage, key, path, format string, re *regexp.Regexp) (string, bool) {
	raw, ok := obj[key]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		b.fail("%s is not of type 'string' - '%s'", pyRepr(raw), path)
		return "", false
	}
	if re != nil && !re.MatchString(s) {
		b.fail("'%s' is not a '%s' - '%s'", s, format, path)
	}
	return s, true
}

func (b *agentBody) boolean(obj map[string]json.RawMessage, key, path string) (bool, bool) {
	raw, ok := obj[key]
	if !ok {
		return false, false
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		b.fail("%s is not of type 'boolean' - '%s'", pyRepr(raw), path)
	}
	return v, true
}

func (b *agentBody) object(obj map[string]json.RawMessage, key, path string) (map[string]json.RawMessage, bool) {
	raw, ok := obj[key]
	if !ok {
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		b.fail("%s is not of type 'object' - '%s'", pyRepr(raw), path)
		return nil, false
	}
	return m, true
}

// unknown records Wazuh's "Invalid field found" for keys outside allowed.
func unknownFields(obj map[string]json.RawMessage, allowed ...string) []string {
	var bad []string
	for k := range obj {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			bad = append(bad, "'"+k+"'")
		}
	}
	return bad
}

// force reads the force object; present is false when the body has none.
// With timeframes set, value and after_registration_time must be time
// frames (POST /agents/insert); otherwise a bad one is an internal error,
// as when Wazuh's authd refuses it.
func (b *agentBody) force(obj map[string]json.RawMessage, timeframes bool) (core.ForceRules, []string, bool) {
	f := core.DefaultForce
	fo, present := b.object(obj, "force", "force")
	if !present {
		return f, nil, false
	}
	bad := unknownFields(fo, "enabled", "disconnected_time", "after_registration_time")
	if v, ok := b.boolean(fo, "enabled", "force.enabled"); ok {
		f.Enabled = v
	}
	var tfRe *regexp.Regexp
	if timeframes {
		tfRe = reTimeframe
	}
	if dt, ok := b.object(fo, "disconnected_time", "force.disconnected_time"); ok {
		bad = append(bad, unknownFields(dt, "enabled", "value")...)
		if v, ok := b.boolean(dt, "enabled", "force.disconnected_time.enabled"); ok {
			f.DisconnectedTime = v
		}
		if v, ok := b.str(dt, "value", "force.disconnected_time.value", "timeframe", tfRe); ok {
			secs, valid := core.ParseTimeframe(v)
			if !valid && b.err == nil {
				b.err = core.Internal(fmt.Errorf("force.disconnected_time.value %q is not a time frame", v))
			}
			f.DisconnectedFor = secs
		}
	}
	if v, ok := b.str(fo, "after_registration_time", "force.after_registration_time", "timeframe", tfRe); ok {
		secs, valid := core.ParseTimeframe(v)
		if !valid && b.err == nil {
			b.err = core.Internal(fmt.Errorf("force.after_registration_time %q is not a time frame", v))
		}
		f.AfterRegistrationFor = secs
	}
	return f, bad, true
}

// readNewAgent reads and checks the body of POST /agents (insert: POST
// /agents/insert, which also takes id and key and forces by default).
func readNewAgent(c *call, insert bool) (core.NewAgent, error) {
	obj, _, err := c.jsonBody()
	if err != nil {
		return core.NewAgent{}, err
	}
	var b agentBody
	var n core.NewAgent
	name, ok := b.str(obj, "name", "name", "names", reNames)
	if !ok && b.err == nil {
		b.fail("'name' is a required property")
	}
	n.Name = name
	n.IP, _ = b.str(obj, "ip", "ip", "alphanumeric_symbols", reAgentIP)
	allowed := []string{"name", "ip", "force"}
	if insert {
		allowed = append(allowed, "id", "key")
		if id, ok := b.str(obj, "id", "id", "numbers", reAgentID); ok {
			n.ID = id
		}
		if key, ok := b.str(obj, "key", "key", "wazuh_key", nil); ok {
			if len(key) != 64 {
				b.fail("'%s' is too %s - 'key'", key, map[bool]string{true: "long", false: "short"}[len(key) > 64])
			} else if !reAgentKey.MatchString(key) {
				b.fail("'%s' is not a 'wazuh_key' - 'key'", key)
			}
			n.Key = key
		}
	}
	force, bad, present := b.force(obj, insert)
	switch {
	case present:
		n.Force = force
	case insert:
		n.Force = core.DefaultForce
	}
	if b.err != nil {
		return n, b.err
	}
	bad = append(bad, unknownFields(obj, allowed...)...)
	if len(bad) > 0 {
		sort.Strings(bad)
		return n, core.BadRequest("Invalid field found {" + strings.Join(bad, ", ") + "}")
	}
	if len(n.Name) > core.MaxAgentNameLen {
		return n, core.E(1738)
	}
	return n, nil
}

// registerAgent answers a registration with {"data": {"id", "key"}, "error": 0}.
func registerAgent(c *call, n core.NewAgent) error {
	if !c.sess.Perms.Can("agent:create", "*:*:*") {
		return c.forbidden("*:*")
	}
	a, err := agentsFrom(c)
	if err != nil {
		return err
	}
	r, err := a.Register(c.r.Context(), n)
	if err != nil {
		return err
	}
	writeJSON(c.w, c.r, data{Data: Object{{"id", r.ID}, {"key", r.Key}}})
	return nil
}

// postAgent is POST /agents.
var postAgent = framework(func(c *call) error {
	n, err := readNewAgent(c, false)
	if err != nil {
		return err
	}
	return registerAgent(c, n)
})

// postAgentInsert is POST /agents/insert.
var postAgentInsert = framework(func(c *call) error {
	n, err := readNewAgent(c, true)
	if err != nil {
		return err
	}
	return registerAgent(c, n)
})

// postAgentQuick is POST /agents/insert/quick?agent_name=NAME.
var postAgentQuick = framework(func(c *call) error {
	return registerAgent(c, core.NewAgent{Name: c.q.Get("agent_name")})
})
