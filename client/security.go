package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Scalar is a JSON scalar (string, number or boolean) kept as text, for fields whose type varies between versions.
type Scalar string

// UnmarshalJSON accepts any JSON scalar; null becomes "".
func (s *Scalar) UnmarshalJSON(b []byte) error {
	var str string
	if json.Unmarshal(b, &str) == nil {
		*s = Scalar(str)
		return nil
	}
	if string(b) == "null" {
		*s = ""
		return nil
	}
	*s = Scalar(strings.TrimSpace(string(b)))
	return nil
}

// APIInfo is the answer of GET /.
type APIInfo struct {
	Title       string `json:"title"`
	APIVersion  string `json:"api_version"`
	Revision    Scalar `json:"revision"`
	LicenseName string `json:"license_name"`
	LicenseURL  string `json:"license_url"`
	Hostname    string `json:"hostname"`
	Timestamp   string `json:"timestamp"`
}

// CurrentUser is the user behind the token, with its roles expanded (GET /security/users/me).
type CurrentUser struct {
	ID         int          `json:"id"`
	Username   string       `json:"username"`
	AllowRunAs bool         `json:"allow_run_as"`
	Roles      []RoleDetail `json:"roles"`
}

// RoleDetail is a role with its policies and rules expanded.
type RoleDetail struct {
	ID       int      `json:"id"`
	Name     string   `json:"name"`
	Policies []Policy `json:"policies"`
	Rules    []Rule   `json:"rules"`
}

// MyPolicies are the processed permissions of the token: action → resource → "allow" or "deny".
type MyPolicies struct {
	Permissions map[string]map[string]string
	RBACMode    string
}

// SecurityConfig is the security configuration; zero fields are left out of updates.
type SecurityConfig struct {
	AuthTokenExpTimeout int    `json:"auth_token_exp_timeout,omitempty"`
	RBACMode            string `json:"rbac_mode,omitempty"`
}

// RBACAction describes one RBAC action (GET /security/actions).
type RBACAction struct {
	Description      string     `json:"description"`
	Resources        []string   `json:"resources"`
	Example          PolicyBody `json:"example"`
	RelatedEndpoints []string   `json:"related_endpoints"`
}

// RBACResource describes one RBAC resource type (GET /security/resources).
type RBACResource struct {
	Description string `json:"description"`
}

// Info returns the API's title, version and host name (GET /).
func (c *Client) Info(ctx context.Context) (*APIInfo, error) {
	d, err := getData[APIInfo](ctx, c, http.MethodGet, "/", nil, nil)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// UsersMe returns the user behind the token (GET /security/users/me).
func (c *Client) UsersMe(ctx context.Context) (*CurrentUser, error) {
	return getOne[CurrentUser](ctx, c, http.MethodGet, "/security/users/me", nil, nil)
}

// UsersMePolicies returns the processed permissions of the token (GET /security/users/me/policies).
func (c *Client) UsersMePolicies(ctx context.Context) (*MyPolicies, error) {
	raw, err := getData[map[string]json.RawMessage](ctx, c, http.MethodGet, "/security/users/me/policies", nil, nil)
	if err != nil {
		return nil, err
	}
	p := &MyPolicies{Permissions: map[string]map[string]string{}}
	for k, v := range raw {
		if k == "rbac_mode" {
			_ = json.Unmarshal(v, &p.RBACMode)
			continue
		}
		var res map[string]string
		if err := json.Unmarshal(v, &res); err == nil {
			p.Permissions[k] = res
		}
	}
	return p, nil
}

// SecurityConfig returns the token lifetime and RBAC mode (GET /security/config).
func (c *Client) SecurityConfig(ctx context.Context) (*SecurityConfig, error) {
	d, err := getData[SecurityConfig](ctx, c, http.MethodGet, "/security/config", nil, nil)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// UpdateSecurityConfig changes the set fields of the security configuration; the manager then revokes every token, so the client forgets its own.
func (c *Client) UpdateSecurityConfig(ctx context.Context, cfg SecurityConfig) error {
	_, err := getMessage(ctx, c, http.MethodPut, "/security/config", nil, cfg)
	c.tokens.drop()
	return err
}

// ResetSecurityConfig restores the default security configuration, which also revokes every token.
func (c *Client) ResetSecurityConfig(ctx context.Context) error {
	_, err := getMessage(ctx, c, http.MethodDelete, "/security/config", nil, nil)
	c.tokens.drop()
	return err
}

// Logout invalidates the tokens of the current user (DELETE /security/user/authenticate) and forgets the cached one.
func (c *Client) Logout(ctx context.Context) error {
	_, err := getMessage(ctx, c, http.MethodDelete, loginPath, nil, nil)
	c.tokens.drop()
	return err
}

// RevokeAll invalidates every token of every user (PUT /security/user/revoke).
func (c *Client) RevokeAll(ctx context.Context) error {
	_, err := getMessage(ctx, c, http.MethodPut, "/security/user/revoke", nil, nil)
	c.tokens.drop()
	return err
}

// RunAsLogin logs in with an authorization context (POST /security/user/authenticate/run_as) and returns that token without caching it.
func (c *Client) RunAsLogin(ctx context.Context, authContext any) (string, error) {
	if err := c.tokens.checkHold(); err != nil {
		return "", err
	}
	body, err := json.Marshal(authContext)
	if err != nil {
		return "", err
	}
	st, err := c.tokens.login(ctx, loginPath+"/run_as", body)
	return st.token, err
}

// Actions lists RBAC actions, optionally only those of endpoint such as "GET /agents" (GET /security/actions).
func (c *Client) Actions(ctx context.Context, endpoint string) (map[string]RBACAction, error) {
	q := url.Values{}
	setStr(q, "endpoint", endpoint)
	return getData[map[string]RBACAction](ctx, c, http.MethodGet, "/security/actions", q, nil)
}

// Resources lists RBAC resource types, optionally only resource such as "agent:id" (GET /security/resources).
func (c *Client) Resources(ctx context.Context, resource string) (map[string]RBACResource, error) {
	q := url.Values{}
	setStr(q, "resource", resource)
	return getData[map[string]RBACResource](ctx, c, http.MethodGet, "/security/resources", q, nil)
}

// positionQuery adds the optional link position (negative means append).
func positionQuery(v url.Values, position int) url.Values {
	if position >= 0 {
		v.Set("position", strconv.Itoa(position))
	}
	return v
}
