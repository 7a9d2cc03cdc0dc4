package api

import (
	"encoding/json"
	"fmt"
	"github.com/muster-project/muster/internal/core"
	"strings"
)

// getSecurityConfig is GET /security/config.
func getSecurityConfig(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	cfg := c.s.sec.Config()
	writeJSON(c.w, c.r, data{Data: Object{{"auth_token_exp_timeout", cfg.AuthTokenExpTimeout},
		{"rbac_mode", cfg.RBACMode}}})
	return nil
}

// putSecurityConfig is PUT /security/config: a partial update; every token
// is revoked after it.
func putSecurityConfig(c *call) error {
	obj, _, err := c.jsonBody()
	if err != nil {
		return err
	}
	if len(obj) == 0 {
		return badRequestf("{} does not have enough properties")
	}
	var timeout *int
	var mode *string
	if v, ok := obj["auth_token_exp_timeout"]; ok {
		var n json.Number
		dec := json.NewDecoder(strings.NewReader(string(v)))
		dec.UseNumber()
		if err := dec.Decode(&n); err != nil || strings.ContainsAny(n.String(), ".eE") {
			return badRequestf("%s is not of type 'integer' - 'auth_token_exp_timeout'", pyRepr(v))
		}
		i, err := n.Int64()
		if err != nil || i < 30 {
			return badRequestf("%s is less than the minimum of 30 - 'auth_token_exp_timeout'", n)
		}
		if i > 1<<31-1 {
			return badRequestf("%s is greater than the maximum of %d - 'auth_token_exp_timeout'", n, 1<<31-1)
		}
		t := int(i)
		timeout = &t
	}
	if v, ok := obj["rbac_mode"]; ok {
		var s string
		if json.Unmarshal(v, &s) != nil || (s != "white" && s != "black") {
			return badRequestf("%s is not one of ['white', 'black'] - 'rbac_mode'", pyRepr(v))
		}
		mode = &s
	}
	if err := invalidFields(obj, "auth_token_exp_timeout", "rbac_mode"); err != nil {
		return err
	}
	if err := c.requireResourceless(); err != nil {
		return err
	}
	if err := c.s.sec.UpdateConfig(c.r.Context(), timeout, mode); err != nil {
		return err
	}
	writeJSON(c.w, c.r, message{Message: "Configuration was successfully updated"})
	return nil
}

// deleteSecurityConfig is DELETE /security/config: back to 900 s and white.
func deleteSecurityConfig(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	if err := c.s.sec.ResetConfig(c.r.Context()); err != nil {
		return err
	}
	writeJSON(c.w, c.r, message{Message: "Configuration was successfully updated"})
	return nil
}

// pyRepr shows a JSON value the way Python prints it in schema errors.
func pyRepr(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	switch x := v.(type) {
	case string:
		return "'" + x + "'"
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	return string(raw)
}

func badRequestf(format string, args ...any) error {
	return core.BadRequest(fmt.Sprintf(format, args...))
}
