package rbac

// Filter describes which existing items of one resource type a request that named no ids may see; it is what
// Wazuh's list endpoints apply silently. An item is allowed when the last rule covering it allows it; an item
// no rule covers is allowed when Default is set. Rules never contain wildcards: a wildcard resets Default.
//
// A store turns it into SQL as a CASE over the rules in reverse order, for example
// CASE WHEN id = '005' THEN 0 WHEN id IN (SELECT agent FROM belongs WHERE grp = 'web') THEN 1 ELSE 0 END = 1,
// or uses the shortcuts None, All and IDs. Ids in rules may name items that do not exist; they simply match
// nothing (in Wazuh they become "not found" failures that list endpoints drop).
type Filter struct {
	Default bool
	Rules   []FilterRule
}

// FilterRule allows or denies the item with id Value or, when Group is set, the agents of group Value.
type FilterRule struct {
	Allow bool
	Group bool
	Value string
}

// Allows reports whether the item id (an agent belonging to groups, for agent filters) passes the filter.
func (f Filter) Allows(id string, groups []string) bool {
	for i := len(f.Rules) - 1; i >= 0; i-- {
		r := f.Rules[i]
		if !r.Group && r.Value == id {
			return r.Allow
		}
		if r.Group {
			for _, g := range groups {
				if g == r.Value {
					return r.Allow
				}
			}
		}
	}
	return f.Default
}

// None reports whether no item can pass (the endpoint may skip its query and answer an empty list).
func (f Filter) None() bool {
	if f.Default {
		return false
	}
	for _, r := range f.Rules {
		if r.Allow {
			return false
		}
	}
	return true
}

// All reports whether every item passes (no WHERE clause is needed).
func (f Filter) All() bool {
	if !f.Default {
		return false
	}
	for _, r := range f.Rules {
		if !r.Allow {
			return false
		}
	}
	return true
}

// IDs returns the allowed ids when the filter is a plain allow-list (no default and no group rules); ok is
// false otherwise.
func (f Filter) IDs() (ids []string, ok bool) {
	if f.Default {
		return nil, false
	}
	for _, r := range f.Rules {
		if r.Group {
			return nil, false
		}
	}
	ids = []string{}
	for i, r := range f.Rules {
		if r.Allow && f.lastFor(r) == i {
			ids = append(ids, r.Value)
		}
	}
	return ids, true
}

func (f Filter) lastFor(r FilterRule) int {
	for i := len(f.Rules) - 1; i >= 0; i-- {
		if f.Rules[i].Group == r.Group && f.Rules[i].Value == r.Value {
			return i
		}
	}
	return -1
}

// foldFilter builds the list-path filter of type typ from the ops of each checked action, in action order.
// Wazuh's allowed set starts empty (white) or with every existing item, re-added before each action (black);
// a wildcard covers every existing item of an expandable type and nothing of the other types.
func foldFilter(typ string, mode Mode, perAction [][]op) Filter {
	exp := expandable(typ)
	var f Filter
	for _, ops := range perAction {
		if mode == Black && exp {
			f = Filter{Default: true}
		}
		for _, o := range ops {
			switch o.kind {
			case opAll:
				if exp {
					f = Filter{Default: o.allow}
				}
			default:
				f.Rules = append(f.Rules, FilterRule{Allow: o.allow, Group: o.kind == opGroup, Value: o.value})
			}
		}
	}
	// Keep only the last rule of each id or group: earlier ones can never decide.
	seen := map[FilterRule]bool{}
	kept := make([]FilterRule, 0, len(f.Rules))
	for i := len(f.Rules) - 1; i >= 0; i-- {
		key := FilterRule{Group: f.Rules[i].Group, Value: f.Rules[i].Value}
		if !seen[key] {
			seen[key] = true
			kept = append(kept, f.Rules[i])
		}
	}
	for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
		kept[i], kept[j] = kept[j], kept[i]
	}
	if len(kept) == 0 {
		kept = nil
	}
	f.Rules = kept
	return f
}
