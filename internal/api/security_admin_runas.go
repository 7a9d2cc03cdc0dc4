package api

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"

	"github.com/muster-project/muster/internal/core"
)

// maxAuthContext is the largest run_as body Wazuh accepts.
const maxAuthContext = 8192

// runAsLogin is POST /security/user/authenticate/run_as: Basic credentials
// and an authorization context (a JSON object) that security rules map to
// roles. Wazuh's order: login block (403), body size (413), credentials
// (401, counted), query (400), body (415/400), run_as permission (403).
func runAsLogin(c *call) error {
	ip, err := c.gate()
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(c.r.Body, maxAuthContext+1))
	if err != nil {
		return core.BadRequest("Could not read the request body")
	}
	if len(raw) > maxAuthContext {
		return &core.Error{Code: 413, Status: 413, Title: "Request Entity Too Large", Local: true,
			Detail: fmt.Sprintf("Auth context payload exceeds the maximum allowed size of %d bytes.", maxAuthContext)}
	}
	if rec := recorderFrom(c.r); rec != nil {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			rec.body = v
		}
	}
	user, pass, err := c.credentials(ip)
	if err != nil {
		return err
	}
	token, err := c.s.sec.LoginRunAs(c.r.Context(), user, pass, func() (json.RawMessage, error) {
		if err := validateQuery(c.q, []param{pBool("raw")}); err != nil {
			return nil, err
		}
		if ct := c.r.Header.Get("Content-Type"); ct != "" {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
				return nil, core.Problem(415, "Unsupported Media Type",
					fmt.Sprintf("Invalid Content-type (%s), expected ['application/json']", ct))
			}
		}
		if _, err := parseObject(raw); err != nil {
			return nil, err
		}
		return raw, nil
	})
	if err == core.ErrInvalidCredentials {
		c.s.blocker.Failed(ip, c.s.now())
		return err
	}
	if err != nil {
		return err
	}
	return writeToken(c, token)
}
