package api

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
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
	kList   // comma-separated or repeated
	kNumber // a JSON number: integer or decimal
)

var reDigits = regexp.MustCompile(`^\+?\d+$`)

// param declares one query parameter of an endpoint; undeclared ones are a
// 400, as Wazuh validates strictly.
type param struct {
	name     string
	kind     kind
	min, max int64 // kInt bounds when max > 0 or min set
	hasMin   bool
	pattern  *regexp.Regexp    // kString / each kList item
	format   string            // the pattern's name in error messages
	valid    func(string) bool // an extra check of the format (kString / each kList item)
	required bool
	lower    bool     // value lower-cased before validation
	enum     []string // allowed values (kString / each kList item)
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
		if errors.Is(err, strconv.ErrRange) && reDigits.MatchString(v) {
			// Past int64: Python's integers have no limit, so only a
			// maximum refuses it here.
			if p.max > 0 {
				return core.BadRequest(fmt.Sprintf("%s is greater than the maximum of %d - '%s'", v, p.max, p.name))
			}
			return nil
		}
		if err != nil {
			return core.BadRequest(fmt.Sprintf("'%s' is not of type 'integer' - '%s'", v, p.name))
		}
		if p.hasMin && n < p.min {
			return core.BadRequest(fmt.Sprintf("%d is less than the minimum of %d - '%s'", n, p.min, p.name))
		}
		if p.max > 0 && n > p.max {
			return core.BadRequest(fmt.Sprintf("%d is greater than the maximum of %d - '%s'", n, p.max, p.name))
		}
	case kNumber:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return core.BadRequest(fmt.Sprintf("'%s' is not of type 'number' - '%s'", v, p.name))
		}
		if p.hasMin && n < float64(p.min) {
			return core.BadRequest(fmt.Sprintf("%s is less than the minimum of %d - '%s'", v, p.min, p.name))
		}
	case kString:
		if p.enum != nil && !slices.Contains(p.enum, v) {
			return enumError(p.name, v, p.enum)
		}
		if p.pattern != nil && !p.pattern.MatchString(v) || p.valid != nil && !p.valid(v) {
			return core.BadRequest(fmt.Sprintf("'%s' is not a '%s' - '%s'", v, p.format, p.name))
		}
	case kList:
		for _, raw := range vals {
			for _, item := range strings.Split(raw, ",") {
				if p.lower {
					item = strings.ToLower(item)
				}
				if p.enum != nil && !slices.Contains(p.enum, item) {
					return enumError(p.name, item, p.enum)
				}
				if p.pattern != nil && !p.pattern.MatchString(item) || p.valid != nil && !p.valid(item) {
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

// Formats of the agent and group endpoints (agents.md §0.5).
var (
	reAgentID       = regexp.MustCompile(`^\d{3,}$`)
	reAgentIDOrAll  = regexp.MustCompile(`^(\d{3,}|all)$`)
	reGroupName     = regexp.MustCompile(`^[A-Za-z0-9.\-_]+$`)
	reAlphanumeric  = regexp.MustCompile(`^[\p{L}\p{N}_,\-.+\s:]+$`)
	reTimeframe     = regexp.MustCompile(`^\d+[dhms]?$`)
	reSortParam     = regexp.MustCompile(`^[\p{L}\p{N}_\-,\s+.]+$`)
	reSearchParam   = regexp.MustCompile(`^[^;|&^*>]+$`)
	reAgentStatus   = regexp.MustCompile(`^(active|pending|never_connected|disconnected)$`)
	reDeleteStatus  = regexp.MustCompile(`^(all|active|pending|never_connected|disconnected)$`)
	reHashAlgorithm = regexp.MustCompile(`^(md5|sha1|sha224|sha256|sha384|sha512|blake2b|blake2s|sha3_224|sha3_256|sha3_384|sha3_512)$`)
)

// validGroupName is the group_names format: no ".", ".." or "all".
func validGroupName(s string) bool { return s != "." && s != ".." && s != "all" }

// validGroupNameOrAll is the group_names_or_all format.
func validGroupNameOrAll(s string) bool { return s != "." && s != ".." }

// More formats of the agent endpoints.
var (
	reUpgradePackage = regexp.MustCompile(`^(rpm|deb)$`)
	reAgentQuickName = regexp.MustCompile(`^[\w\-.%]{1,128}$`)
	reGroupFileType  = regexp.MustCompile(`^(conf|rootkit_files|rootkit_trojans|rcl)$`)
)
