package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

type authKind int

const (
	bearerAuth authKind = iota
	basicAuth
)

// route is one entry of the route table.
type route struct {
	method string
	path   string
	auth   authKind
	params []param
	handle func(c *call) error
	// access declares the endpoint's RBAC, as x-rbac-actions does in
	// Wazuh's document: GET /security/actions is served from it, and
	// handlers run its checks with c.decide.
	access rbac.Requirement
}

// call is one request on its way through an endpoint.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	q      url.Values
	sess   *core.Session
	access rbac.Requirement
}

func (s *Server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r, q: parseQuery(r.URL.RawQuery), access: rt.access}
		if err := c.run(rt); err != nil {
			writeError(w, r, err)
		}
	})
}

// run applies Wazuh's order: authentication, then query validation, then
// the handler (which checks bodies and RBAC).
func (c *call) run(rt route) error {
	if rt.auth == bearerAuth {
		sess, err := c.s.bearer(c.r)
		if err != nil {
			return err
		}
		c.sess = sess
		if rec := recorderFrom(c.r); rec != nil {
			rec.user = sess.Username
			rec.ctxSum = sess.Claims.HashAuthContext
		}
		if err := validateQuery(c.q, rt.params); err != nil {
			return err
		}
	}
	// Login endpoints authenticate inside their handler, where failures are
	// counted, and validate the query after that.
	return rt.handle(c)
}

// bearer authenticates the request's token.
func (s *Server) bearer(r *http.Request) (*core.Session, error) {
	h := r.Header.Get("Authorization")
	scheme, value, _ := strings.Cut(strings.TrimSpace(h), " ")
	if h == "" || !strings.EqualFold(scheme, "bearer") {
		return nil, core.ErrNoToken
	}
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, core.ErrBadAuthHeader
	}
	return s.sec.Authenticate(value)
}

// body reads the request body within max_upload_size.
func (c *call) body() ([]byte, error) {
	limit := c.s.cfg.API.MaxUploadSize
	rd := io.Reader(c.r.Body)
	if limit > 0 {
		rd = io.LimitReader(c.r.Body, limit+1)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, core.BadRequest("Could not read the request body")
	}
	if limit > 0 && int64(len(b)) > limit {
		return nil, core.Problem(413, "Content size exceeded.",
			fmt.Sprintf("Maximum content size limit (%d) exceeded (%d bytes read)", limit, len(b)))
	}
	if rec := recorderFrom(c.r); rec != nil && len(b) > 0 {
		var v any
		if json.Unmarshal(b, &v) == nil {
			rec.body = v
		}
	}
	return b, nil
}

// maxDepth bounds JSON nesting, as Python's recursion limit does for Wazuh.
const maxDepth = 512

// jsonBody reads a JSON object body after Wazuh's checks: media type (415),
// emptiness and syntax (400), then the missing Content-Type (406, 6002).
func (c *call) jsonBody() (map[string]json.RawMessage, []byte, error) {
	ct := c.r.Header.Get("Content-Type")
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, nil, core.Problem(415, "Unsupported Media Type",
				fmt.Sprintf("Invalid Content-type (%s), expected ['application/json']", ct))
		}
	}
	raw, err := c.body()
	if err != nil {
		return nil, nil, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil, core.BadRequest("Request body must not be empty")
	}
	if tooDeep(raw) {
		return nil, nil, core.Problem(400, "Maximum recursion depth exceeded.",
			"The JSON structure of the request exceeds the maximum nesting depth allowed by the API.")
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&obj); err != nil || dec.More() {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, nil, core.BadRequest(fmt.Sprintf("%s is not of type 'object'", strings.TrimSpace(string(raw))))
		}
		return nil, nil, core.BadRequest(jsonSyntaxDetail(raw, err))
	}
	if obj == nil {
		return nil, nil, core.BadRequest("None is not of type 'object'")
	}
	if ct == "" {
		e := core.E(6002)
		e.Local = true
		return nil, nil, e
	}
	return obj, raw, nil
}

// jsonSyntaxDetail describes invalid JSON the way Python's json module does
// for the common case of a body that is not JSON at all.
func jsonSyntaxDetail(raw []byte, err error) string {
	// Python's message when no JSON value starts where one must.
	i := 0
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	if i < len(raw) && !strings.ContainsRune(`{["-0123456789tfn`, rune(raw[i])) ||
		i < len(raw) && raw[i] == 'n' && !bytes.HasPrefix(raw[i:], []byte("null")) {
		line, col := 1, 1
		for _, b := range raw[:i] {
			if b == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Sprintf("Expecting value: line %d column %d (char %d)", line, col, i)
	}
	return "Invalid JSON body: " + err.Error()
}

func tooDeep(raw []byte) bool {
	depth := 0
	inString := false
	for i := 0; i < len(raw); i++ {
		switch ch := raw[i]; {
		case inString && ch == '\\':
			i++
		case ch == '"':
			inString = !inString
		case inString:
		case ch == '{' || ch == '[':
			depth++
			if depth > maxDepth {
				return true
			}
		case ch == '}' || ch == ']':
			depth--
		}
	}
	return false
}

// invalidFields is Wazuh's 400 for body keys outside the model.
func invalidFields(obj map[string]json.RawMessage, allowed ...string) error {
	var bad []string
	for k := range obj {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			bad = append(bad, "'"+k+"'")
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return core.BadRequest(fmt.Sprintf("Invalid field found {%s}", strings.Join(bad, ", ")))
}

// parseQuery splits a query string on '&' only. Go's url.ParseQuery drops
// pairs holding a literal ';', which Wazuh's q language uses for AND and
// which clients such as curl send unescaped.
func parseQuery(raw string) url.Values {
	v := url.Values{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		key, val, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(key)
		x, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil {
			// Keep undecodable text as sent; validation reports it.
			k, x = key, val
		}
		v[k] = append(v[k], x)
	}
	return v
}
