package rbac

import "strings"

// opKind says what a processed single resource covers.
type opKind uint8

const (
	opAll   opKind = iota // "type:attr:*" (and "agent:group:*"): every item of the type
	opValue               // "type:attr:value": that one value
	opGroup               // "agent:group:name": the agents of that group
)

// op is one processed single resource of an action, folded onto the resource type it decides.
type op struct {
	kind  opKind
	value string
	allow bool
}

// typeOps is the ordered ops of one action for one resource type, with indexes for explicit-id lookups.
type typeOps struct {
	ops       []op
	lastAll   int            // index of the last opAll, -1 when none
	lastValue map[string]int // value → index of its last opValue
	groups    []int          // indexes of opGroup ops, ascending
	filter    Filter         // list-path filter of this action alone
}

// actionPerms is the compiled form of one action.
type actionPerms struct {
	resources []ResourceEffect
	byType    map[string]*typeOps
	pairs     []ResourceEffect // combined ("a&b") resources in order
	broken    string           // a single resource Wazuh cannot split into type, attribute and value
	anyStar   bool             // static "*:*:*" check of this action alone
}

// Permissions is the compiled, immutable RBAC state of one token.
type Permissions struct {
	mode    Mode
	order   []string
	actions map[string]*actionPerms
}

// Mode returns the RBAC mode the permissions were compiled for.
func (p *Permissions) Mode() Mode { return p.mode }

func build(order []string, tables map[string]*table, mode Mode) *Permissions {
	p := &Permissions{mode: mode, order: order, actions: make(map[string]*actionPerms, len(order))}
	for _, name := range order {
		t := tables[name]
		a := &actionPerms{byType: map[string]*typeOps{}}
		for i, k := range t.keys {
			if t.dead[i] {
				continue
			}
			re := ResourceEffect{Resource: k, Effect: t.effects[i]}
			a.resources = append(a.resources, re)
			if strings.Contains(k, "&") {
				a.pairs = append(a.pairs, re)
				continue
			}
			segs := strings.Split(k, ":")
			if len(segs) != 3 {
				if a.broken == "" {
					a.broken = k
				}
				continue
			}
			typ, o := segs[0]+":"+segs[1], op{kind: opValue, value: segs[2], allow: re.Effect == EffectAllow}
			if typ == "agent:group" {
				typ, o.kind = "agent:id", opGroup
			}
			if segs[2] == "*" {
				o.kind, o.value = opAll, ""
			}
			to := a.byType[typ]
			if to == nil {
				to = &typeOps{lastAll: -1, lastValue: map[string]int{}}
				a.byType[typ] = to
			}
			to.add(o)
		}
		for typ, to := range a.byType {
			to.filter = foldFilter(typ, mode, [][]op{to.ops})
		}
		a.anyStar = starAllowed(mode, []*actionPerms{a})
		p.actions[name] = a
	}
	return p
}

func (to *typeOps) add(o op) {
	i := len(to.ops)
	to.ops = append(to.ops, o)
	switch o.kind {
	case opAll:
		to.lastAll = i
	case opValue:
		to.lastValue[o.value] = i
	case opGroup:
		to.groups = append(to.groups, i)
	}
}

// covering returns the index of the last op that covers the explicit value v (a wildcard covers every value,
// existing or not), or -1. groups is consulted only when a group op could still decide.
func (to *typeOps) covering(v string, groups func(string) []string) int {
	best := to.lastAll
	if i, ok := to.lastValue[v]; ok && i > best {
		best = i
	}
	if len(to.groups) == 0 || to.groups[len(to.groups)-1] < best || groups == nil {
		return best
	}
	member := groups(v)
	for j := len(to.groups) - 1; j >= 0 && to.groups[j] > best; j-- {
		g := to.ops[to.groups[j]].value
		for _, m := range member {
			if m == g {
				return to.groups[j]
			}
		}
	}
	return best
}

// expandable reports whether Wazuh can expand "type:attr:*" into the existing items of the type; for the other
// types (decoder, list and rule files) a wildcard covers only explicitly requested values.
func expandable(typ string) bool {
	switch typ {
	case "agent:id", "agent:group", "group:id", "node:id", "user:id", "role:id", "policy:id", "rule:id":
		return true
	}
	return false
}

// starAllowed evaluates a static "*:*:*" requirement over the given actions: the allowed set starts as {"*"}
// in black mode (reset for every action), "*:*:*" adds or removes "*", "*:*:x" adds or removes "x", and the
// check passes when the set is not empty.
func starAllowed(mode Mode, actions []*actionPerms) bool {
	set := map[string]bool{}
	for _, a := range actions {
		if mode == Black {
			clear(set)
			set["*"] = true
		}
		if a == nil {
			continue
		}
		if to := a.byType["*:*"]; to != nil {
			for _, o := range to.ops {
				v := o.value
				if o.kind == opAll {
					v = "*"
				}
				if o.allow {
					set[v] = true
				} else {
					delete(set, v)
				}
			}
		}
	}
	return len(set) > 0
}

// UsesAgentGroups reports whether deciding explicit agent ids for action needs the agents' groups, that is
// whether its processed policies name an agent:group resource other than "agent:group:*".
func (p *Permissions) UsesAgentGroups(action string) bool {
	a := p.actions[action]
	if a == nil {
		return false
	}
	to := a.byType["agent:id"]
	return to != nil && len(to.groups) > 0
}

// NeedsAgentGroups reports whether Decide may consult the agent-groups function for check c.
func (p *Permissions) NeedsAgentGroups(c Check) bool {
	for _, r := range c.Resources {
		if r.Type == "agent:id" && r.Param != "" {
			for _, a := range c.Actions {
				if p.UsesAgentGroups(a) {
					return true
				}
			}
		}
	}
	return false
}
