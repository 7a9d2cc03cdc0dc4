package rbac

// Decision is the outcome of one Check for one request (security.md 5.5).
type Decision struct {
	// Forbidden means the whole call fails with HTTP 403, error 4000, detail
	// PermissionDeniedMessage(DeniedType): explicit ids all denied, or a static resource denied.
	Forbidden  bool
	DeniedType string
	// Skip means a static resource was denied while denials are not reported: Wazuh skips the function and
	// answers the endpoint's default (empty) result.
	Skip bool
	// ReportDenied is Wazuh's add_denied: when set, every Target.Denied id becomes a failed item with code 4000
	// and message PermissionDeniedMessage(Target.Type); when clear, the endpoint drops the failed items whose
	// codes are in its exclude list (the request named no ids).
	ReportDenied bool
	// Targets has one entry per parameter template, in template order.
	Targets []Target
}

// Target is the decision for the ids of one request parameter.
type Target struct {
	Type  string
	Param string
	// Explicit is set when the request supplied ids for Param.
	Explicit bool
	// Allowed are the explicit ids the function may act on, in request order (duplicates kept).
	Allowed []string
	// Denied are the explicit ids refused, unique, in request order; empty unless ReportDenied.
	Denied []string
	// Filter selects the items the function may see when the request supplied no ids.
	Filter Filter
}

// Target returns the decision for parameter param, or nil.
func (d *Decision) Target(param string) *Target {
	for i := range d.Targets {
		if d.Targets[i].Param == param {
			return &d.Targets[i]
		}
	}
	return nil
}

// Decide evaluates c for a request. ids maps each parameter the request supplied to its ids (a parameter
// absent from the map was not supplied, which is how "all" reaches the check); agentGroups returns the groups
// of an agent and is consulted only for explicit agent ids when UsesAgentGroups is true for a checked action
// (nil means agents belong to no group). The error is an *EvalError when Wazuh would fail with HTTP 500, or a
// plain error for a combined check whose parameters do not each carry exactly one id.
func (p *Permissions) Decide(c Check, ids map[string][]string, agentGroups func(agentID string) []string) (Decision, error) {
	acts := make([]*actionPerms, len(c.Actions))
	for i, name := range c.Actions {
		acts[i] = p.actions[name]
		if acts[i] != nil && acts[i].broken != "" && !c.Combined {
			return Decision{}, &EvalError{Reason: "processed resource " + quote(acts[i].broken) + " of " + name + " is not type:attr:value"}
		}
	}
	var d Decision
	for _, r := range c.Resources {
		if r.Param != "" {
			d.Targets = make([]Target, 0, len(c.Resources))
			break
		}
	}
	if n := len(c.Resources); n > 0 {
		last := c.Resources[n-1]
		_, supplied := ids[last.Param]
		d.ReportDenied = last.Param == "" || supplied
	}
	if c.Combined {
		return p.decideCombined(c, acts, ids, d)
	}
	for _, r := range c.Resources {
		denied := false
		switch {
		case r.Type == "*:*":
			if len(acts) == 1 && acts[0] != nil {
				denied = !acts[0].anyStar
			} else {
				denied = !starAllowed(p.mode, acts)
			}
		case r.Param == "":
			denied = !p.member(acts, r.Type, r.Value, agentGroups)
		default:
			t := Target{Type: r.Type, Param: r.Param}
			vals, supplied := ids[r.Param]
			if !supplied {
				t.Filter = p.filter(acts, r.Type)
				d.Targets = append(d.Targets, t)
				continue
			}
			t.Explicit = true
			seen := map[string]bool{}
			for _, v := range vals {
				ok, dup := seen[v]
				if !dup {
					ok = p.member(acts, r.Type, v, agentGroups)
					seen[v] = ok
					if !ok {
						t.Denied = append(t.Denied, v)
					}
				}
				if ok {
					t.Allowed = append(t.Allowed, v)
				}
			}
			if len(vals) > 0 && len(t.Allowed) == 0 {
				denied = true
				t.Allowed, t.Denied = nil, nil
			}
			if !d.ReportDenied {
				t.Denied = nil
			}
			d.Targets = append(d.Targets, t)
		}
		if denied {
			if d.ReportDenied {
				return Decision{Forbidden: true, DeniedType: r.Type, ReportDenied: true}, nil
			}
			if r.Param == "" {
				d.Skip = true
			}
		}
	}
	return d, nil
}

// member folds the actions for one explicit value: black mode re-adds it before each action, then the last
// op of the action covering it decides.
func (p *Permissions) member(acts []*actionPerms, typ, v string, agentGroups func(string) []string) bool {
	var groups func(string) []string
	if typ == "agent:id" {
		groups = agentGroups
	}
	m := false
	for _, a := range acts {
		if p.mode == Black {
			m = true
		}
		if a == nil {
			continue
		}
		if to := a.byType[typ]; to != nil {
			if i := to.covering(v, groups); i >= 0 {
				m = to.ops[i].allow
			}
		}
	}
	return m
}

func (p *Permissions) filter(acts []*actionPerms, typ string) Filter {
	if len(acts) == 1 && acts[0] != nil {
		if to := acts[0].byType[typ]; to != nil {
			return to.filter
		}
	}
	per := make([][]op, len(acts))
	for i, a := range acts {
		if a != nil && a.byType[typ] != nil {
			per[i] = a.byType[typ].ops
		}
	}
	return foldFilter(typ, p.mode, per)
}

// Can reports whether action is allowed on one concrete resource, such as "*:*:*" or "node:id:master" (the
// static check Wazuh uses for resourceless actions and for the node name shown in dapi_errors).
func (p *Permissions) Can(action, resource string) bool {
	if resource == "*:*:*" {
		if a := p.actions[action]; a != nil {
			return a.broken == "" && a.anyStar
		}
		return p.mode == Black
	}
	c, err := NewCheck([]string{action}, resource)
	if err != nil || c.Resources[0].Param != "" {
		return false
	}
	d, err := p.Decide(c, nil, nil)
	return err == nil && !d.Forbidden && !d.Skip
}

func quote(s string) string { return "\"" + s + "\"" }
