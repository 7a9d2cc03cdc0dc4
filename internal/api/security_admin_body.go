package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/muster-project/muster/internal/core"
)

// bodySchema is the small part of JSON Schema the security bodies use, with
// connexion's error texts ("<message> - '<path>'"). Checks run in the
// order the OpenAPI document lists them, and the first failure is the
// answer, as in Wazuh.
type bodySchema struct {
	kind          string // "object", "string", "array"
	minLen        int
	maxLen        int
	names         bool        // format "names"
	requiredFirst bool        // "required" comes before "properties" in the document
	required      []string    // object
	props         []bodyProp  // object
	items         *bodySchema // array
}

type bodyProp struct {
	name string
	s    *bodySchema
}

var (
	sName     = &bodySchema{kind: "string", maxLen: 64, names: true}
	sStrings  = &bodySchema{kind: "array", items: &bodySchema{kind: "string"}}
	sPolicyIn = &bodySchema{kind: "object", props: []bodyProp{
		{"actions", sStrings}, {"resources", sStrings}, {"effect", &bodySchema{kind: "string"}}},
		required: []string{"actions", "resources", "effect"}}
	schemaUserCreate = &bodySchema{kind: "object", props: []bodyProp{
		{"username", &bodySchema{kind: "string", minLen: 4, maxLen: 64, names: true}},
		{"password", &bodySchema{kind: "string"}}}, required: []string{"username", "password"}}
	schemaUserUpdate   = &bodySchema{kind: "object", props: []bodyProp{{"password", &bodySchema{kind: "string"}}}}
	schemaRoleCreate   = &bodySchema{kind: "object", requiredFirst: true, required: []string{"name"}, props: []bodyProp{{"name", sName}}}
	schemaRoleUpdate   = &bodySchema{kind: "object", props: []bodyProp{{"name", sName}}}
	schemaRuleCreate   = &bodySchema{kind: "object", requiredFirst: true, required: []string{"name", "rule"}, props: []bodyProp{{"name", sName}, {"rule", &bodySchema{kind: "object"}}}}
	schemaRuleUpdate   = &bodySchema{kind: "object", props: []bodyProp{{"name", sName}, {"rule", &bodySchema{kind: "object"}}}}
	schemaPolicyCreate = &bodySchema{kind: "object", requiredFirst: true, required: []string{"name", "policy"}, props: []bodyProp{{"name", sName}, {"policy", sPolicyIn}}}
	schemaPolicyUpdate = &bodySchema{kind: "object", props: []bodyProp{{"name", sName}, {"policy", sPolicyIn}}}
)

// validate checks one JSON value; path is where it sits in the body.
func (s *bodySchema) validate(raw json.RawMessage, path []string) error {
	fail := func(msg string) error {
		if len(path) > 0 {
			msg += " - '" + strings.Join(path, ".") + "'"
		}
		return core.BadRequest(msg)
	}
	repr := core.PyRepr(raw)
	switch s.kind {
	case "string":
		var v string
		if jsonKind(raw) != '"' || json.Unmarshal(raw, &v) != nil {
			return fail(repr + " is not of type 'string'")
		}
		n := utf8.RuneCountInString(v)
		switch {
		case n < s.minLen:
			return fail(repr + " is too short")
		case s.maxLen > 0 && n > s.maxLen:
			return fail(repr + " is too long")
		case s.names && !reNames.MatchString(v):
			return fail(repr + " is not a 'names'")
		}
	case "array":
		var items []json.RawMessage
		if jsonKind(raw) != '[' || json.Unmarshal(raw, &items) != nil {
			return fail(repr + " is not of type 'array'")
		}
		for i, it := range items {
			if err := s.items.validate(it, append(path, strconv.Itoa(i))); err != nil {
				return err
			}
		}
	case "object":
		var obj map[string]json.RawMessage
		if jsonKind(raw) != '{' || json.Unmarshal(raw, &obj) != nil {
			return fail(repr + " is not of type 'object'")
		}
		required := func() error {
			for _, k := range s.required {
				if _, ok := obj[k]; !ok {
					return fail("'" + k + "' is a required property")
				}
			}
			return nil
		}
		if s.requiredFirst {
			if err := required(); err != nil {
				return err
			}
		}
		for _, p := range s.props {
			if v, ok := obj[p.name]; ok {
				if err := p.s.validate(v, append(path, p.name)); err != nil {
					return err
				}
			}
		}
		if !s.requiredFirst {
			return required()
		}
	}
	return nil
}

// jsonKind is the first character of a JSON value: '{', '[', '"', 'n'...
func jsonKind(raw json.RawMessage) byte {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return 0
	}
	return t[0]
}

// adminBody reads a security body in Wazuh's order: media type (415),
// emptiness and syntax (400), the schema (400), a missing Content-Type
// (406, 6002), then keys outside the model (400).
func (c *call) adminBody(s *bodySchema) (map[string]json.RawMessage, error) {
	ct := c.r.Header.Get("Content-Type")
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, core.Problem(415, "Unsupported Media Type",
				fmt.Sprintf("Invalid Content-type (%s), expected ['application/json']", ct))
		}
	}
	raw, err := c.body()
	if err != nil {
		return nil, err
	}
	obj, err := parseObject(raw)
	if err != nil {
		return nil, err
	}
	if err := s.validate(raw, nil); err != nil {
		return nil, err
	}
	if ct == "" {
		e := core.E(6002)
		e.Local = true
		return nil, e
	}
	allowed := make([]string, len(s.props))
	for i, p := range s.props {
		allowed[i] = p.name
	}
	if err := invalidFields(obj, allowed...); err != nil {
		return nil, err
	}
	return obj, nil
}

// parseObject decodes a JSON body that must be an object.
func parseObject(raw []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, core.BadRequest("Request body must not be empty")
	}
	if tooDeep(raw) {
		return nil, core.Problem(400, "Maximum recursion depth exceeded.",
			"The JSON structure of the request exceeds the maximum nesting depth allowed by the API.")
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil || dec.More() {
		if err == nil {
			err = errors.New("extra data after the JSON value")
		}
		return nil, core.BadRequest(jsonSyntaxDetail(raw, err))
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, core.BadRequest(core.PyRepr(raw) + " is not of type 'object'")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, core.BadRequest(jsonSyntaxDetail(raw, err))
	}
	return obj, nil
}

// bodyString reads an optional string field that the schema already checked.
func bodyString(obj map[string]json.RawMessage, key string) *string {
	raw, ok := obj[key]
	if !ok {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil
	}
	return &s
}
