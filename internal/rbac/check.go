package rbac

import "strings"

// Resource is one resource template of a Check: "user:id:{user_ids}" checks the ids of request parameter
// user_ids against type user:id; "*:*:*" and "node:id:master" are static resources.
type Resource struct {
	Type  string // "type:attr", e.g. "agent:id", "*:*"
	Param string // request parameter holding the ids; "" for a static resource
	Value string // the static value when Param is ""
}

// String returns the template form, e.g. "user:id:{user_ids}".
func (r Resource) String() string {
	if r.Param != "" {
		return r.Type + ":{" + r.Param + "}"
	}
	return r.Type + ":" + r.Value
}

// Check is one permission check of an endpoint, the equivalent of one expose_resources decorator of Wazuh:
// its actions share one allowed set per resource type, and its resources are checked in order.
type Check struct {
	Actions   []string
	Resources []Resource
	// Combined is set when the resources form one "a&b" combination: only combined policy resources
	// (such as "agent:id:001&node:id:master") can grant it.
	Combined bool
}

// NewCheck parses resource templates ("user:id:{user_ids}", "*:*:*", "agent:id:{agent_id}&node:id:master")
// into a Check. A template containing "&" makes the whole check a combination, as in Wazuh.
//
// Refused on purpose (Wazuh does not use them and they would need the list of existing items to decide):
// agent:group templates, a static "*" value on a type other than "*:*", and two templates of the same type.
func NewCheck(actions []string, templates ...string) (Check, error) {
	c := Check{Actions: append([]string(nil), actions...)}
	if len(actions) == 0 || len(templates) == 0 {
		return Check{}, errorf("check needs at least one action and one resource")
	}
	seen := map[string]bool{}
	for _, tpl := range templates {
		parts := strings.Split(tpl, "&")
		if len(parts) > 1 {
			c.Combined = true
		}
		for _, part := range parts {
			r, err := parseTemplate(part)
			if err != nil {
				return Check{}, err
			}
			if seen[r.Type] {
				return Check{}, errorf("resource type %q appears twice in one check", r.Type)
			}
			seen[r.Type] = true
			c.Resources = append(c.Resources, r)
		}
	}
	return c, nil
}

// Need is NewCheck for one action that panics on a malformed template; it is meant for static route tables.
func Need(action string, templates ...string) Check {
	c, err := NewCheck([]string{action}, templates...)
	if err != nil {
		panic(err)
	}
	return c
}

func parseTemplate(s string) (Resource, error) {
	segs := strings.SplitN(s, ":", 3)
	if len(segs) != 3 || !typeSegment(segs[0]) || !typeSegment(segs[1]) || segs[2] == "" {
		return Resource{}, errorf("malformed resource template %q", s)
	}
	r := Resource{Type: segs[0] + ":" + segs[1]}
	v := segs[2]
	switch {
	case strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") && len(v) > 2:
		r.Param = v[1 : len(v)-1]
		for i := 0; i < len(r.Param); i++ {
			if c := r.Param[i]; !(isNameChar(c) && c != '.') {
				return Resource{}, errorf("malformed parameter in resource template %q", s)
			}
		}
	case strings.ContainsAny(v, "{}"):
		return Resource{}, errorf("malformed resource template %q", s)
	default:
		r.Value = v
	}
	switch {
	case r.Type == "agent:group":
		return Resource{}, errorf("agent:group templates are not supported (%q)", s)
	case r.Type == "*:*" && (r.Param != "" || r.Value != "*"):
		return Resource{}, errorf("the resourceless type only takes \"*:*:*\" (%q)", s)
	case r.Type != "*:*" && r.Value == "*":
		return Resource{}, errorf("static wildcards are only supported for \"*:*:*\" (%q)", s)
	}
	return r, nil
}

func typeSegment(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c == '*') {
			return false
		}
	}
	return true
}

// Requirement declares the RBAC of one endpoint in the route table: the actions its OpenAPI x-rbac-actions
// lists (in that order; they drive GET /security/actions) and the checks its handler runs, in evaluation
// order (the outermost Wazuh decorator first).
type Requirement struct {
	Actions []string
	Checks  []Check
}

// Require builds a Requirement whose listed actions are those of checks in order of first appearance.
func Require(checks ...Check) Requirement {
	r := Requirement{Checks: checks}
	seen := map[string]bool{}
	for _, c := range checks {
		for _, a := range c.Actions {
			if !seen[a] {
				seen[a] = true
				r.Actions = append(r.Actions, a)
			}
		}
	}
	return r
}

// Listing returns a copy of r whose listed actions are replaced (for endpoints whose x-rbac-actions order
// differs from the order of their checks).
func (r Requirement) Listing(actions ...string) Requirement {
	r.Actions = append([]string(nil), actions...)
	return r
}
