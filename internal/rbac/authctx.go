package rbac

import (
	"encoding/json"
	"errors"
	"regexp"
	"sort"
)

// Errors of authorization-context rules.
var (
	// ErrRuleSyntax reports a rule or an authorization context that is not a JSON object.
	ErrRuleSyntax = errors.New("rbac: rule and authorization context must be JSON objects")
	// ErrRuleTooDeep reports an evaluation that reached Wazuh's FIND depth limit (8) or recursion limit; the
	// role being evaluated is skipped.
	ErrRuleTooDeep = errors.New("rbac: authorization context rule evaluation too deep")
)

const (
	findMaxDepth = 8   // Wazuh aborts FIND below this many nested objects
	maxFrames    = 900 // stands in for Python's recursion limit
)

// WazuhWUIUserID is the id of the wazuh-wui user, the only user for which default security rules (id ≤ 99)
// are evaluated.
const WazuhWUIUserID = 2

// MaxReservedID is the highest id of default (reserved) users, roles, policies and rules.
const MaxReservedID = 99

// MatchRule reports whether an authorization context (a JSON object) satisfies a security rule body (a JSON
// object using AND, OR, NOT, MATCH, MATCH$, FIND and FIND$, with r'...' regular expressions), following
// security.md 5.11 including its quirks. Errors: ErrRuleSyntax, ErrRuleTooDeep, or an *EvalError where Wazuh
// raises (a regular expression applied to a non-string, an unorderable list, len of a number).
//
// Known differences from Python, none reachable with ordinary rules: regular expressions use Go's RE2 syntax
// (look-around and back-references do not compile and are compared literally; "$" does not match before a
// final newline; \d and \w are ASCII), lists are sorted with CPython's short-list algorithm whatever their
// length, and Python's recursion limit is approximated by a fixed nesting budget.
func MatchRule(rule, authContext json.RawMessage) (bool, error) {
	r, err := parsePy(rule)
	if err != nil || r.kind != kDict {
		return false, ErrRuleSyntax
	}
	ctx, err := parsePy(authContext)
	if err != nil || ctx.kind != kDict {
		return false, ErrRuleSyntax
	}
	e := &evaluator{root: ctx, regex: map[string]*regexp.Regexp{}}
	return e.checkRule(r)
}

// SecurityRule is a stored security rule: its id and its JSON body.
type SecurityRule struct {
	ID   int
	Rule json.RawMessage
}

// RoleWithRules is a role with the security rules linked to it, in link order.
type RoleWithRules struct {
	ID    int
	Rules []SecurityRule
}

// RolesForContext returns, in ascending role id order, the roles of which at least one rule matches the
// authorization context of a run_as login by user userID. Default rules (id ≤ 99) count only for wazuh-wui
// (user id 2). A role whose evaluation is too deep is skipped; any other evaluation error fails the login
// (Wazuh answers 500), as does a rule body that is not a JSON object.
func RolesForContext(roles []RoleWithRules, userID int, authContext json.RawMessage) ([]int, error) {
	ctx, err := parsePy(authContext)
	if err != nil || ctx.kind != kDict {
		return nil, ErrRuleSyntax
	}
	sorted := append([]RoleWithRules(nil), roles...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	e := &evaluator{root: ctx, regex: map[string]*regexp.Regexp{}}
	out := []int{}
	for _, role := range sorted {
		for _, rule := range role.Rules {
			if rule.ID <= MaxReservedID && userID != WazuhWUIUserID {
				continue
			}
			body, err := parsePy(rule.Rule)
			if err != nil || body.kind != kDict {
				return nil, ErrRuleSyntax
			}
			e.frames = 0
			ok, err := e.checkRule(body)
			if errors.Is(err, ErrRuleTooDeep) {
				break
			}
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, role.ID)
				break
			}
		}
	}
	return out, nil
}

// evaluator holds one authorization context and the regular expressions compiled so far.
type evaluator struct {
	root   *pyValue
	regex  map[string]*regexp.Regexp
	frames int
}

func (e *evaluator) enter() error {
	e.frames++
	if e.frames > maxFrames {
		return ErrRuleTooDeep
	}
	return nil
}

func (e *evaluator) leave() { e.frames-- }

// checkRule walks the keys of a rule object in order: a logical operator or function that decides returns,
// the others fall through to the next key; unknown keys are ignored.
func (e *evaluator) checkRule(rule *pyValue) (bool, error) {
	if rule.kind != kDict {
		return false, &EvalError{Reason: "a sub-rule is a " + rule.typeName() + ", not an object"}
	}
	if err := e.enter(); err != nil {
		return false, err
	}
	defer e.leave()
	for _, key := range rule.keys {
		val := rule.vals[key]
		switch key {
		case "AND", "OR", "NOT":
			n := 0
			subs := val.list
			if val.kind == kDict {
				subs = []*pyValue{val}
			} else if val.kind != kList {
				subs = nil
			}
			for _, sub := range subs {
				ok, err := e.checkRule(sub)
				if err != nil {
					return false, err
				}
				if ok {
					n++
				}
			}
			if key == "OR" {
				if n > 0 {
					return true, nil
				}
				continue
			}
			size, err := pyLen(val)
			if err != nil {
				return false, err
			}
			if key == "NOT" {
				return n != size, nil
			}
			if n == size {
				return true, nil
			}
		case "MATCH", "MATCH$":
			ok, err := e.match(val, nil, key == "MATCH$")
			if err != nil || ok {
				return ok, err
			}
		case "FIND", "FIND$":
			ok, err := e.find(val, nil, key == "FIND$", 0)
			if err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}
