package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// Role is an RBAC role with the ids of its policies (in priority order), users and rules.
type Role struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Policies []int  `json:"policies"`
	Users    []int  `json:"users"`
	Rules    []int  `json:"rules"`
}

// Policy is an RBAC policy; Roles is omitted in expanded views.
type Policy struct {
	ID     int        `json:"id"`
	Name   string     `json:"name"`
	Policy PolicyBody `json:"policy"`
	Roles  []int      `json:"roles,omitempty"`
}

// PolicyBody is what a policy allows or denies.
type PolicyBody struct {
	Actions   []string `json:"actions"`
	Resources []string `json:"resources"`
	Effect    string   `json:"effect"`
}

// Rule is a security rule mapping an authorization context to roles.
type Rule struct {
	ID    int            `json:"id"`
	Name  string         `json:"name"`
	Rule  map[string]any `json:"rule"`
	Roles []int          `json:"roles,omitempty"`
}

// ListRoles lists roles (GET /security/roles).
func (c *Client) ListRoles(ctx context.Context, opts ListOptions) (*AffectedItems[Role], error) {
	return getList[Role](ctx, c, http.MethodGet, "/security/roles", opts.values("role_ids"), nil)
}

// GetRole returns one role by id.
func (c *Client) GetRole(ctx context.Context, id int) (*Role, error) {
	return getOne[Role](ctx, c, http.MethodGet, "/security/roles", url.Values{"role_ids": {strconv.Itoa(id)}}, nil)
}

// CreateRole creates a role (POST /security/roles).
func (c *Client) CreateRole(ctx context.Context, name string) (*Role, error) {
	return getOne[Role](ctx, c, http.MethodPost, "/security/roles", nil, map[string]string{"name": name})
}

// UpdateRole renames a role (PUT /security/roles/{id}).
func (c *Client) UpdateRole(ctx context.Context, id int, name string) (*Role, error) {
	return getOne[Role](ctx, c, http.MethodPut, "/security/roles/"+strconv.Itoa(id), nil, map[string]string{"name": name})
}

// DeleteRoles deletes roles by id (DELETE /security/roles).
func (c *Client) DeleteRoles(ctx context.Context, ids []int) (*AffectedItems[Role], error) {
	q, err := idsQuery("role_ids", ids)
	if err != nil {
		return nil, err
	}
	return getList[Role](ctx, c, http.MethodDelete, "/security/roles", q, nil)
}

// AddRolePolicies links policies to a role at position (negative appends) (POST /security/roles/{id}/policies).
func (c *Client) AddRolePolicies(ctx context.Context, roleID int, policyIDs []int, position int) (*AffectedItems[Role], error) {
	q, err := idsQuery("policy_ids", policyIDs)
	if err != nil {
		return nil, err
	}
	path := "/security/roles/" + strconv.Itoa(roleID) + "/policies"
	return getList[Role](ctx, c, http.MethodPost, path, positionQuery(q, position), nil)
}

// RemoveRolePolicies unlinks policies from a role (DELETE /security/roles/{id}/policies).
func (c *Client) RemoveRolePolicies(ctx context.Context, roleID int, policyIDs []int) (*AffectedItems[Role], error) {
	q, err := idsQuery("policy_ids", policyIDs)
	if err != nil {
		return nil, err
	}
	return getList[Role](ctx, c, http.MethodDelete, "/security/roles/"+strconv.Itoa(roleID)+"/policies", q, nil)
}

// AddRoleRules links security rules to a role (POST /security/roles/{id}/rules).
func (c *Client) AddRoleRules(ctx context.Context, roleID int, ruleIDs []int) (*AffectedItems[Role], error) {
	q, err := idsQuery("rule_ids", ruleIDs)
	if err != nil {
		return nil, err
	}
	return getList[Role](ctx, c, http.MethodPost, "/security/roles/"+strconv.Itoa(roleID)+"/rules", q, nil)
}

// RemoveRoleRules unlinks security rules from a role (DELETE /security/roles/{id}/rules).
func (c *Client) RemoveRoleRules(ctx context.Context, roleID int, ruleIDs []int) (*AffectedItems[Role], error) {
	q, err := idsQuery("rule_ids", ruleIDs)
	if err != nil {
		return nil, err
	}
	return getList[Role](ctx, c, http.MethodDelete, "/security/roles/"+strconv.Itoa(roleID)+"/rules", q, nil)
}

// ListPolicies lists policies (GET /security/policies).
func (c *Client) ListPolicies(ctx context.Context, opts ListOptions) (*AffectedItems[Policy], error) {
	return getList[Policy](ctx, c, http.MethodGet, "/security/policies", opts.values("policy_ids"), nil)
}

// GetPolicy returns one policy by id.
func (c *Client) GetPolicy(ctx context.Context, id int) (*Policy, error) {
	return getOne[Policy](ctx, c, http.MethodGet, "/security/policies", url.Values{"policy_ids": {strconv.Itoa(id)}}, nil)
}

// CreatePolicy creates a policy (POST /security/policies).
func (c *Client) CreatePolicy(ctx context.Context, name string, body PolicyBody) (*Policy, error) {
	req := map[string]any{"name": name, "policy": body}
	return getOne[Policy](ctx, c, http.MethodPost, "/security/policies", nil, req)
}

// UpdatePolicy changes a policy's name (if not empty) and body (if not nil) (PUT /security/policies/{id}).
func (c *Client) UpdatePolicy(ctx context.Context, id int, name string, body *PolicyBody) (*Policy, error) {
	req := map[string]any{}
	if name != "" {
		req["name"] = name
	}
	if body != nil {
		req["policy"] = body
	}
	if len(req) == 0 {
		return nil, errors.New("UpdatePolicy: nothing to change")
	}
	return getOne[Policy](ctx, c, http.MethodPut, "/security/policies/"+strconv.Itoa(id), nil, req)
}

// DeletePolicies deletes policies by id (DELETE /security/policies).
func (c *Client) DeletePolicies(ctx context.Context, ids []int) (*AffectedItems[Policy], error) {
	q, err := idsQuery("policy_ids", ids)
	if err != nil {
		return nil, err
	}
	return getList[Policy](ctx, c, http.MethodDelete, "/security/policies", q, nil)
}

// ListRules lists security rules (GET /security/rules).
func (c *Client) ListRules(ctx context.Context, opts ListOptions) (*AffectedItems[Rule], error) {
	return getList[Rule](ctx, c, http.MethodGet, "/security/rules", opts.values("rule_ids"), nil)
}

// GetRule returns one security rule by id.
func (c *Client) GetRule(ctx context.Context, id int) (*Rule, error) {
	return getOne[Rule](ctx, c, http.MethodGet, "/security/rules", url.Values{"rule_ids": {strconv.Itoa(id)}}, nil)
}

// CreateRule creates a security rule (POST /security/rules).
func (c *Client) CreateRule(ctx context.Context, name string, rule map[string]any) (*Rule, error) {
	return getOne[Rule](ctx, c, http.MethodPost, "/security/rules", nil, map[string]any{"name": name, "rule": rule})
}

// UpdateRule changes a rule's name (if not empty) and body (if not nil) (PUT /security/rules/{id}).
func (c *Client) UpdateRule(ctx context.Context, id int, name string, rule map[string]any) (*Rule, error) {
	req := map[string]any{}
	if name != "" {
		req["name"] = name
	}
	if rule != nil {
		req["rule"] = rule
	}
	if len(req) == 0 {
		return nil, errors.New("UpdateRule: nothing to change")
	}
	return getOne[Rule](ctx, c, http.MethodPut, "/security/rules/"+strconv.Itoa(id), nil, req)
}

// DeleteRules deletes security rules by id (DELETE /security/rules).
func (c *Client) DeleteRules(ctx context.Context, ids []int) (*AffectedItems[Rule], error) {
	q, err := idsQuery("rule_ids", ids)
	if err != nil {
		return nil, err
	}
	return getList[Rule](ctx, c, http.MethodDelete, "/security/rules", q, nil)
}
