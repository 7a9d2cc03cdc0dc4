package rbac

import "strings"

// part is one concrete element of a combined requirement.
type part struct{ typ, value string }

func (pt part) String() string { return pt.typ + ":" + pt.value }

// decideCombined evaluates a combined check. Only combined policy resources with the same types in the same
// positions, each part a wildcard or equal to the required part, apply; a match adds (allow) or removes (deny)
// every required value. Each parameter must carry exactly one id, the only case that works in Wazuh.
func (p *Permissions) decideCombined(c Check, acts []*actionPerms, ids map[string][]string, d Decision) (Decision, error) {
	parts := make([]part, len(c.Resources))
	for i, r := range c.Resources {
		parts[i] = part{typ: r.Type, value: r.Value}
		if r.Param != "" {
			vals := ids[r.Param]
			if len(vals) != 1 {
				return Decision{}, errorf("combined check needs exactly one id in %q, got %d", r.Param, len(vals))
			}
			parts[i].value = vals[0]
		}
	}
	allowed := map[string]map[string]bool{}
	for _, pt := range parts {
		allowed[pt.typ] = map[string]bool{}
	}
	for _, a := range acts {
		if p.mode == Black {
			for _, pt := range parts {
				if pt.typ == "*:*" {
					allowed[pt.typ] = map[string]bool{"*": true}
				} else {
					allowed[pt.typ][pt.value] = true
				}
			}
		}
		if a == nil {
			continue
		}
		for _, re := range a.resources {
			user, ok := pairCovers(parts, re.Resource)
			if !ok {
				continue
			}
			for i, pt := range parts {
				var grant []string
				switch {
				case lastSegment(user[i]) != "*":
					grant = []string{lastSegment(user[i])}
				case pt.typ == "*:*":
					grant = []string{"*"}
				default:
					grant = []string{pt.value}
				}
				for _, g := range grant {
					if pt.value != "*" && g != pt.value {
						continue
					}
					if re.Effect == EffectAllow {
						allowed[pt.typ][g] = true
					} else {
						delete(allowed[pt.typ], g)
					}
				}
			}
		}
	}
	for i, r := range c.Resources {
		if len(allowed[r.Type]) > 0 {
			if r.Param != "" {
				d.Targets = append(d.Targets, Target{Type: r.Type, Param: r.Param, Explicit: true, Allowed: []string{parts[i].value}})
			}
			continue
		}
		if d.ReportDenied {
			return Decision{Forbidden: true, DeniedType: r.Type, ReportDenied: true}, nil
		}
		if r.Param == "" {
			d.Skip = true
		} else {
			d.Targets = append(d.Targets, Target{Type: r.Type, Param: r.Param, Explicit: true})
		}
	}
	return d, nil
}

// pairCovers reports whether the processed resource user grants the combined requirement parts, returning
// user split on "&".
func pairCovers(parts []part, user string) ([]string, bool) {
	us := strings.Split(user, "&")
	if len(us) != len(parts) {
		return nil, false
	}
	for i, pt := range parts {
		if identifier(us[i]) != pt.typ {
			return nil, false
		}
		if lastSegment(us[i]) != "*" && us[i] != pt.String() && pt.value != "*" {
			return nil, false
		}
	}
	return us, true
}

// identifier is everything before the last ":" of a resource ("" when there is none).
func identifier(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i]
	}
	return ""
}
