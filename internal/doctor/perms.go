package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Check is one permission a tool needs, tested with a real request.
type Check struct {
	Method, Path string
	Query        url.Values
	Action       string // RBAC action the endpoint requires
	Resource     string // resource the action must cover
	Role         string // a built-in role that grants it, for the fix
	Required     bool   // a refusal fails the run; otherwise it is a warning
	Why          string // what needs it
}

// DefaultChecks are what muster scan needs: the agent list (required) and the
// manager's settings (optional: the scan falls back to defaults).
func DefaultChecks() []Check {
	return []Check{
		{Method: http.MethodGet, Path: "/agents", Query: url.Values{"limit": {"1"}}, Action: "agent:read",
			Resource: "agent:id:*", Role: "agents_readonly (id 4)", Required: true, Why: "muster scan lists every agent"},
		{Method: http.MethodGet, Path: "/manager/info", Action: "manager:read", Resource: "*:*:*",
			Role: "cluster_readonly (id 6)", Why: "muster scan reads the manager's version and agents_disconnection_time"},
	}
}

// permissions reads the token's processed policies and tries each check.
func (p *probe) permissions(ctx context.Context) Step {
	pol, mode, polNote := p.policies(ctx)
	ev := []string{polNote}
	var warns []Step
	for _, c := range p.o.Checks {
		req := c.Method + " " + c.Path
		a, err := p.do(ctx, c.Method, c.Path, c.Query, bearer(p.token))
		if err != nil {
			return p.transportFailure(req, err, ev)
		}
		rules := describeRules(pol, mode, c.Action)
		ev = append(ev, fmt.Sprintf("%s: %d; policies for %s: %s", req, a.status, c.Action, rules))
		e := a.problem(c.Method, c.Path)
		var s *Step
		switch {
		case a.status == http.StatusOK:
			if c.Path == "/agents" {
				if n, ok := totalItems(a.body); ok {
					ev = append(ev, fmt.Sprintf("GET /agents: %d agents visible to %s", n, p.o.User))
				}
				if pol != nil && !allowedAny(pol, mode, c.Action) {
					w := warn(fmt.Sprintf("user %s may not %s on %s: %s answers, but RBAC hides every agent (%s); %s",
						p.o.User, c.Action, c.Resource, req, rules, c.Why),
						fmt.Sprintf("give %s a role with a policy allowing %s on %s: link the built-in role %s (POST /security/users/{user_id}/roles?role_ids=...)",
							p.o.User, c.Action, c.Resource, c.Role))
					if c.Required {
						w.Status = Fail
					}
					s = &w
				} else if pol != nil && !fullyAllowed(pol, mode, c.Action, c.Resource) {
					w := warn(fmt.Sprintf("%s may read only part of the fleet: %s is limited to %s", p.o.User, c.Action, rules),
						fmt.Sprintf("to scan every agent, give %s a role allowing %s on %s, e.g. the built-in role %s", p.o.User, c.Action, c.Resource, c.Role))
					s = &w
				}
			}
		case a.status == http.StatusForbidden:
			msg := fmt.Sprintf("user %s may not %s on %s: %s is refused (403, error %d: %s); %s", p.o.User, c.Action, c.Resource, req, e.Code, e.Detail, c.Why)
			fix := fmt.Sprintf("give %s a role with a policy allowing %s on %s: link the built-in role %s (POST /security/users/{user_id}/roles?role_ids=...), or add {\"actions\": [%q], \"resources\": [%q], \"effect\": \"allow\"} to one of its roles",
				p.o.User, c.Action, c.Resource, c.Role, c.Action, c.Resource)
			w := Step{Status: Warn, Summary: msg, Fix: fix}
			if c.Required {
				w.Status = Fail
			}
			s = &w
		case a.status == http.StatusNotFound || a.status == http.StatusMethodNotAllowed || a.status == http.StatusNotImplemented:
			w := warn(fmt.Sprintf("this server does not implement %s (%d); %s", req, a.status, c.Why),
				"muster: use a build that serves it; Wazuh 5.x dropped /manager/*, and the scan then falls back to Wazuh's defaults")
			if c.Required {
				w.Status = Fail
				w.Fix = "muster: use a build that serves " + req + "; against Wazuh, check that the URL points at a 4.x manager"
			}
			s = &w
		case a.status == http.StatusTooManyRequests:
			wait := "within a minute"
			if d, ok := retryAfter(a.header, p.o.Now()); ok {
				wait = "in " + d.Round(time.Second).String()
			}
			w := fail(fmt.Sprintf("rate limited on %s: retry %s", req, wait), "slow down the clients of this manager or raise access.max_request_per_minute")
			s = &w
		default:
			w := warn(fmt.Sprintf("%s answered %d %s: %s", req, a.status, e.Title, e.Detail), orDefault(e.Remediation, "check the manager's logs"))
			if c.Required {
				w.Status = Fail
			}
			s = &w
		}
		if s != nil && s.Status == Fail {
			s.Evidence = ev
			return *s
		}
		if s != nil {
			warns = append(warns, *s)
		}
	}
	if len(warns) > 0 {
		w := warns[0]
		for _, o := range warns[1:] {
			w.Summary += "; " + o.Summary
			w.Fix += "; " + o.Fix
		}
		w.Evidence = ev
		return w
	}
	return ok(fmt.Sprintf("%s has every permission checked", p.o.User), ev...)
}

// policies reads GET /security/users/me/policies: action → resource → effect.
func (p *probe) policies(ctx context.Context) (map[string]map[string]string, string, string) {
	a, err := p.do(ctx, http.MethodGet, "/security/users/me/policies", nil, bearer(p.token))
	if err != nil || a.status != http.StatusOK {
		status := "no answer"
		if a != nil {
			status = fmt.Sprint(a.status)
		}
		return nil, "", "processed policies: not readable (" + status + ")"
	}
	var r struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if json.Unmarshal(a.body, &r) != nil {
		return nil, "", "processed policies: unreadable answer"
	}
	pol := map[string]map[string]string{}
	mode := ""
	for k, v := range r.Data {
		if k == "rbac_mode" {
			json.Unmarshal(v, &mode)
			continue
		}
		var res map[string]string
		if json.Unmarshal(v, &res) == nil {
			pol[k] = res
		}
	}
	return pol, mode, fmt.Sprintf("processed policies: %d actions, rbac_mode %s", len(pol), mode)
}

// describeRules says what the policies decide for action.
func describeRules(pol map[string]map[string]string, mode, action string) string {
	if pol == nil {
		return "unknown"
	}
	res, ok := pol[action]
	if !ok || len(res) == 0 {
		if mode == "black" {
			return "no rule (allowed: rbac_mode black allows by default)"
		}
		return "no rule (denied: rbac_mode white denies by default)"
	}
	var parts []string
	for r, eff := range res {
		parts = append(parts, eff+" "+r)
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// allowedAny reports whether action is allowed on at least some resource.
func allowedAny(pol map[string]map[string]string, mode, action string) bool {
	res, ok := pol[action]
	if !ok || len(res) == 0 {
		return mode == "black"
	}
	for _, eff := range res {
		if eff == "allow" {
			return true
		}
	}
	return false
}

// fullyAllowed reports whether action is allowed on every resource of its type.
func fullyAllowed(pol map[string]map[string]string, mode, action, resource string) bool {
	res, ok := pol[action]
	if !ok || len(res) == 0 {
		return mode == "black"
	}
	full := false
	for r, eff := range res {
		if eff != "allow" {
			return false
		}
		if r == resource || r == "*:*:*" {
			full = true
		}
	}
	return full
}

// totalItems reads total_affected_items of a list answer.
func totalItems(body []byte) (int, bool) {
	var r struct {
		Data struct {
			Total *int `json:"total_affected_items"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &r) != nil || r.Data.Total == nil {
		return 0, false
	}
	return *r.Data.Total, true
}
