package rbac

import "strings"

// table is one action's processed resources: an insertion-ordered map where a re-inserted key moves to the end.
type table struct {
	keys    []string
	effects []string
	dead    []bool
	index   map[string]int
	live    int
}

func newTable() *table { return &table{index: map[string]int{}} }

func (t *table) remove(key string) {
	if i, ok := t.index[key]; ok {
		t.dead[i] = true
		delete(t.index, key)
		t.live--
	}
}

// removeIf drops every live key for which drop returns true.
func (t *table) removeIf(drop func(string) bool) {
	for i, k := range t.keys {
		if !t.dead[i] && drop(k) {
			t.dead[i] = true
			delete(t.index, k)
			t.live--
		}
	}
}

// set appends key (the caller has removed any previous occurrence).
func (t *table) set(key, effect string) {
	t.remove(key)
	if len(t.keys) > 64 && t.live*2 < len(t.keys) {
		t.compact()
	}
	t.index[key] = len(t.keys)
	t.keys = append(t.keys, key)
	t.effects = append(t.effects, effect)
	t.dead = append(t.dead, false)
	t.live++
}

func (t *table) compact() {
	n := 0
	for i, k := range t.keys {
		if t.dead[i] {
			continue
		}
		t.keys[n], t.effects[n], t.dead[n] = k, t.effects[i], false
		t.index[k] = n
		n++
	}
	t.keys, t.effects, t.dead = t.keys[:n], t.effects[:n], t.dead[:n]
}

// Compile flattens the policies of roles (in the token's role order, each role's policies in position order)
// into processed policies and indexes them for decisions. It fails with a *ResourceError when a resource is
// malformed, and with ErrMode for an unknown mode. The result is immutable and safe for concurrent use.
func Compile(roles []Role, mode Mode) (*Permissions, error) {
	if mode != White && mode != Black {
		return nil, ErrMode
	}
	var order []string
	tables := map[string]*table{}
	for _, role := range roles {
		for _, pol := range role.Policies {
			for _, action := range pol.Actions {
				t := tables[action]
				if t == nil {
					t = newTable()
					tables[action] = t
					order = append(order, action)
				}
				for _, res := range pol.Resources {
					if !validResource(res) {
						return nil, &ResourceError{Resource: res, Policy: pol.ID}
					}
					parts := strings.Split(res, "&")
					if len(parts) > 2 {
						return nil, &ResourceError{Resource: res, Policy: pol.ID, TooManyParts: true}
					}
					if res == "*" {
						parts = []string{"*:*:*"}
					}
					removePrevious(t, parts)
					t.set(strings.Join(parts, "&"), pol.Effect)
				}
			}
		}
	}
	return build(order, tables, mode), nil
}

// removePrevious drops the earlier entries that a new resource supersedes (security.md 5.4): for a pair, every
// pair whose parts are each equal to the new part or replaced by a wildcard new part; for a single resource,
// the same key and, when its value is "*", every single key sharing its type prefix or starting with
// "agent:group" (a Wazuh quirk kept on purpose).
func removePrevious(t *table, parts []string) {
	if len(parts) > 1 {
		t.removeIf(func(key string) bool {
			old := strings.Split(key, "&")
			if len(old) != len(parts) {
				return false
			}
			for i := range old {
				if lastSegment(parts[i]) != "*" && old[i] != parts[i] {
					return false
				}
			}
			return true
		})
		return
	}
	t.remove(parts[0])
	segs := strings.Split(parts[0], ":")
	if segs[len(segs)-1] != "*" {
		return
	}
	base := "*:*:*"
	if len(segs) > 1 {
		base = strings.Join(segs[:len(segs)-1], ":")
	}
	t.removeIf(func(key string) bool {
		return !strings.Contains(key, "&") && (strings.HasPrefix(key, base) || strings.HasPrefix(key, "agent:group"))
	})
}

func lastSegment(s string) string { return s[strings.LastIndexByte(s, ':')+1:] }

// validResource mirrors Wazuh's check of processed resources: a Python re.match of an alternation whose first
// branch only needs a leading "*", whose second branch only needs a leading "t:a:v&t:a:v" pair, and whose third
// branch is a whole "t:a:v" (where "$" also accepts one trailing newline).
func validResource(r string) bool {
	if strings.HasPrefix(r, "*") {
		return true
	}
	if parts := strings.SplitN(r, "&", 3); len(parts) >= 2 && triple(parts[0], false) && triple(parts[1], true) {
		return true
	}
	return triple(strings.TrimSuffix(r, "\n"), false)
}

// triple reports whether s is "type:attr:value" with Wazuh's character classes; with prefix, only a leading
// "type:attr:v" (one value character) is required.
func triple(s string, prefix bool) bool {
	segs := strings.SplitN(s, ":", 3)
	if len(segs) != 3 || !allIn(segs[0], isNameChar) || !allIn(segs[1], isNameChar) || segs[2] == "" {
		return false
	}
	if prefix {
		return isValueChar(segs[2][0])
	}
	return allIn(segs[2], isValueChar)
}

func allIn(s string, ok func(byte) bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

func isValueChar(c byte) bool { return isNameChar(c) || c == '*' || c == '/' || c == '-' }
