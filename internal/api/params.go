package api

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/core"
)

type kind int

const (
	kBool kind = iota
	kInt
	kString
	kList // comma-separated or repeated
)

// param declares one query parameter of an endpoint; undeclared ones are a
// 400, as Wazuh validates strictly.
type param struct {
	name     string
	kind     kind
	min, max int64 // kInt bounds when max > 0 or min set
	hasMin   bool
	pattern  *regexp.Regexp // kString / each kList item
	format   string         // the pattern's name in error messages
	required bool
	lower    bool // value lower-cased before validation
}

func pBool(name string) param { return param{name: name, kind: kBool} }

func pInt(name string, min, max int64) param {
	return param{name: name, kind: kInt, min: min, max: max, hasMin: true}
}

func pString(name string, format string, re *regexp.Regexp) param {
	return param{name: name, kind: kString, pattern: re, format: format}
}

func pList(name string, format string, re *regexp.Regexp) param {
	return param{name: name, kind: kList, pattern: re, format: format}
}

func (p param) req() param { p.required = true; return p }

var (
	pretty          = pBool("pretty")
	waitForComplete = pBool("wait_for_complete")
	std             = []param{pretty, waitForComplete}
)

// validateQuery checks the query against the declared parameters.
func validateQuery(q url.Values, params []param) error {
	declared := make(map[string]param, len(params))
	for _, p := range params {
		declared[p.name] = p
	}
	var extra []string
	for k := range q {
		if _, ok := declared[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return core.BadRequest(fmt.Sprintf("Extra query parameter(s) %s not in spec", strings.Join(extra, ", ")))
	}
	for _, p := range params {
		vals, ok := q[p.name]
		if !ok {
			if p.required {
				return core.BadRequest(fmt.Sprintf("Missing query parameter '%s'", p.name))
			}
			continue
		}
		if err := p.check(vals); err != nil {
			return err
		}
	}
	return nil
}

func (p param) check(vals []string) error {
	v := vals[len(vals)-1]
	if p.lower {
		v = strings.ToLower(v)
	}
	switch p.kind {
	case kBool:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return core.BadRequest(fmt.Sprintf("'%s' is not of type 'boolean' - '%s'", v, p.name))
		}
	case kInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return core.BadRequest(fmt.Sprintf("'%s' is not of type 'integer' - '%s'", v, p.name))
		}
		if p.hasMin && n < p.min {
			return core.BadRequest(fmt.Sprintf("%d is less than the minimum of %d - '%s'", n, p.min, p.name))
		}
		if p.max > 0 && n > p.max {
			return core.BadRequest(fmt.Sprintf("%d is greater than the maximum of %d - '%s'", n, p.max, p.name))
		}
	case kString:
		if p.pattern != nil && !p.pattern.MatchString(v) {
			return core.BadRequest(fmt.Sprintf("'%s' is not a '%s' - '%s'", v, p.format, p.name))
		}
	case kList:
		for _, raw := range vals {
			for _, item := range strings.Split(raw, ",") {
				if p.lower {
					item = strings.ToLower(item)
				}
				if p.pattern != nil && !p.pattern.MatchString(item) {
					return core.BadRequest(fmt.Sprintf("'%s' is not a '%s' - '%s'", item, p.format, p.name))
				}
			}
		}
	}
	return nil
}

// boolParam reads a validated boolean parameter.
func boolParam(q url.Values, name string) bool {
	v, ok := q[name]
	return ok && strings.EqualFold(v[len(v)-1], "true")
}

// listParam reads a validated list parameter.
func listParam(q url.Values, name string) []string {
	var out []string
	for _, raw := range q[name] {
		for _, item := range strings.Split(raw, ",") {
			if item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}
