package rbac

import (
	"regexp"
	"strings"
)

// match is Wazuh's match_item: objects match key by key (a regex key r'...' also matches every context key it
// matches, so it can count twice), anything else is a leaf compared by regex, equality or list inclusion. A
// nil or null context stands for the whole authorization context, as in Wazuh.
func (e *evaluator) match(role, ctx *pyValue, exact bool) (bool, error) {
	if ctx == nil || ctx.kind == kNull {
		ctx = e.root
	}
	if err := e.enter(); err != nil {
		return false, err
	}
	defer e.leave()
	if role.kind == kDict && ctx.kind == kDict {
		n := 0
		for _, k := range role.keys {
			rv := role.vals[k]
			if re := e.regexOf(k); re != nil {
				for _, ck := range ctx.keys {
					if re.MatchString(ck) {
						ok, err := e.match(rv, ctx.vals[ck], exact)
						if err != nil {
							return false, err
						}
						if ok {
							n++
						}
					}
				}
			}
			if cv, found := ctx.vals[k]; found {
				ok, err := e.match(rv, cv, exact)
				if err != nil {
					return false, err
				}
				if ok {
					n++
				}
			}
		}
		return n == len(role.keys), nil
	}
	return e.leaf(role, ctx, exact)
}

func (e *evaluator) leaf(role, ctx *pyValue, exact bool) (bool, error) {
	var err error
	if role.kind == kList {
		if role, err = sortedCopy(role); err != nil {
			return false, err
		}
	}
	if ctx.kind == kList {
		if ctx, err = sortedCopy(ctx); err != nil {
			return false, err
		}
	}
	if role.kind == kStr {
		if re := e.regexOf(role.s); re != nil {
			if ctx.kind != kList {
				ctx = &pyValue{kind: kList, list: []*pyValue{ctx}}
			}
			for _, c := range ctx.list {
				if c.kind != kStr {
					return false, &EvalError{Reason: "regular expression applied to a " + c.typeName()}
				}
				if re.MatchString(c.s) {
					return true, nil
				}
			}
		}
	}
	if pyEqual(role, ctx) {
		return true, nil
	}
	if role.kind == kStr {
		role = &pyValue{kind: kList, list: []*pyValue{role}}
	}
	if role.kind == kList && ctx.kind == kList {
		return e.lists(role.list, ctx.list, exact)
	}
	return role.kind == kDict && len(role.keys) == 0, nil
}

func sortedCopy(v *pyValue) (*pyValue, error) {
	s, err := pySorted(v.list)
	if err != nil {
		return nil, err
	}
	return &pyValue{kind: kList, list: s}, nil
}

// lists counts the (context element, rule element) pairs that match. MATCH succeeds once the count reaches
// the number of rule elements; MATCH$ once it also equals the number of context elements.
func (e *evaluator) lists(role, ctx []*pyValue, exact bool) (bool, error) {
	n := 0
	for _, c := range ctx {
		for _, r := range role {
			var re *regexp.Regexp
			if r.kind == kStr {
				re = e.regexOf(r.s)
			}
			if re != nil {
				if c.kind != kStr {
					return false, &EvalError{Reason: "regular expression applied to a " + c.typeName()}
				}
				if re.MatchString(c.s) {
					n++
				}
			} else if pyEqual(c, r) {
				n++
			}
			if !exact && n == len(role) || exact && n == len(ctx) && n == len(role) {
				return true, nil
			}
		}
	}
	return false, nil
}

// find is Wazuh's find_item: match at this level, then against every value of the object, descending into
// nested objects and into objects inside lists. Reaching depth 8 aborts the evaluation.
func (e *evaluator) find(role, ctx *pyValue, exact bool, depth int) (bool, error) {
	if depth >= findMaxDepth {
		return false, ErrRuleTooDeep
	}
	if ctx == nil || ctx.kind == kNull {
		ctx = e.root
	}
	if err := e.enter(); err != nil {
		return false, err
	}
	defer e.leave()
	if ok, err := e.match(role, ctx, exact); err != nil || ok {
		return ok, err
	}
	if ctx.kind != kDict {
		return false, &EvalError{Reason: "FIND applied to a " + ctx.typeName()}
	}
	for _, k := range ctx.keys {
		v := ctx.vals[k]
		ok, err := e.match(role, v, exact)
		if err != nil || ok {
			return ok, err
		}
		var nested []*pyValue
		switch v.kind {
		case kDict:
			nested = []*pyValue{v}
		case kList:
			for _, el := range v.list {
				if el.kind == kDict {
					nested = append(nested, el)
				}
			}
		}
		for _, n := range nested {
			if ok, err := e.find(role, n, exact, depth+1); err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

// regexOf returns the expression of a string of the form r'...' (Wazuh drops the first two and the last two
// characters and anchors the match at the start), or nil for any other string or one that does not compile.
// Go's RE2 syntax stands in for Python's: patterns using look-around or back-references do not compile and
// are therefore compared literally.
func (e *evaluator) regexOf(s string) *regexp.Regexp {
	if !strings.HasPrefix(s, "r'") {
		return nil
	}
	if re, ok := e.regex[s]; ok {
		return re
	}
	runes := []rune(s)
	pat := ""
	if len(runes) > 4 {
		pat = string(runes[2 : len(runes)-2])
	}
	var re *regexp.Regexp
	if _, err := regexp.Compile(pat); err == nil {
		re, _ = regexp.Compile(`^(?:` + pat + `)`)
	}
	e.regex[s] = re
	return re
}
