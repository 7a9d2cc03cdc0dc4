package api

import (
	"fmt"
	"mime"
	"regexp"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

//go:generate go run gen_unsupported.go ../../../shared/spec/wazuh-api-v4.14.7.yaml

// unsupportedOp is an operation of the analysis engine: what Wazuh's
// document lets it take, so that a valid request gets the 501 and an
// invalid one the 400 Wazuh would give.
type unsupportedOp struct {
	method, path      string
	query, pathParams []param
	body              *opBody
}

// opBody is an operation's request body.
type opBody struct {
	required bool
	types    []string
}

// More formats of Wazuh's document (the analysis engine's operations).
var (
	rePaths               = regexp.MustCompile(`^[\w\-.\\/:]+$`)
	reDirnamesPath        = regexp.MustCompile(`^(((etc|ruleset)/(decoders|rules)[\w\-/]*)|(etc/lists[\w\-/]*))$`)
	reCDBFilenamePath     = regexp.MustCompile(`^[\-\w]+$`)
	reXMLFilename         = regexp.MustCompile(`^[\w\-]+\.xml(,[\w\-]+\.xml)*$`)
	reXMLFilenamePath     = regexp.MustCompile(`^[\w\-]+\.xml$`)
	reSymbolsAlphanumeric = regexp.MustCompile(`^[\w,*<>!\-.+\s:/()\[\]'"|=~#]+$`)
	reRange               = regexp.MustCompile(`^(\d+|\d{1,2}-\d{1,2})$`)
	reHash                = regexp.MustCompile(`^([\da-fA-F]{32}|[\da-fA-F]{40}|[\da-fA-F]{56}|[\da-fA-F]{64}|[\da-fA-F]{96}|[\da-fA-F]{128})?$`)
	reSignedInt           = regexp.MustCompile(`^-?\d+$`)
	reISODate             = regexp.MustCompile(`^\d{4}-(1[0-2]|0[1-9])-(3[01]|0[1-9]|[12]\d)$`)
)

// unsupportedRoutes answer the analysis engine's operations with 501 once
// the request is one the document accepts; other paths under the same
// prefixes get the 501 after authentication alone.
func unsupportedRoutes() []route {
	var rs []route
	for _, op := range unsupportedOps {
		rs = append(rs, route{op.method, op.path, bearerAuth, op.query, op.handler, rbac.Requirement{}})
	}
	for _, prefix := range unsupportedPrefixes {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			if !hasOp(m, prefix) {
				rs = append(rs, route{m, prefix, bearerAuth, nil, notSupported, rbac.Requirement{}})
			}
			rs = append(rs, route{m, prefix + "/*", bearerAuth, nil, notSupported, rbac.Requirement{}})
		}
	}
	return rs
}

func hasOp(method, path string) bool {
	for _, op := range unsupportedOps {
		if op.method == method && op.path == path {
			return true
		}
	}
	return false
}

// handler checks the path parameters and the body, then answers 501.
func (op unsupportedOp) handler(c *call) error {
	for _, p := range op.pathParams {
		if err := p.check([]string{chi.URLParam(c.r, p.name)}); err != nil {
			return err
		}
	}
	if b := op.body; b != nil {
		ct := c.r.Header.Get("Content-Type")
		if ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || !slices.Contains(b.types, mt) {
				return core.Problem(415, "Unsupported Media Type",
					fmt.Sprintf("Invalid Content-type (%s), expected %s", ct, pyList(b.types)))
			}
		}
		if slices.Contains(b.types, "application/json") && (ct != "" || b.required) {
			if _, _, err := c.jsonBody(); err != nil {
				return err
			}
		} else if b.required {
			raw, err := c.body()
			if err != nil {
				return err
			}
			if len(strings.TrimSpace(string(raw))) == 0 {
				return core.BadRequest("Request body must not be empty")
			}
		}
	}
	return notSupported(c)
}
