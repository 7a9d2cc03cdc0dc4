package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// User is an API user; Roles are the ids of its roles in priority order.
type User struct {
	ID         int    `json:"id"`
	Username   string `json:"username"`
	AllowRunAs bool   `json:"allow_run_as"`
	Roles      []int  `json:"roles"`
}

// errNoIDs refuses bulk deletions without explicit ids.
var errNoIDs = errors.New("no ids given: pass the ids to delete explicitly")

// idsQuery renders a required id list parameter.
func idsQuery(param string, ids []int) (url.Values, error) {
	if len(ids) == 0 {
		return nil, errNoIDs
	}
	return url.Values{param: {joinInts(ids)}}, nil
}

// ListUsers lists API users (GET /security/users).
func (c *Client) ListUsers(ctx context.Context, opts ListOptions) (*AffectedItems[User], error) {
	return getList[User](ctx, c, http.MethodGet, "/security/users", opts.values("user_ids"), nil)
}

// GetUser returns one user by id.
func (c *Client) GetUser(ctx context.Context, id int) (*User, error) {
	return getOne[User](ctx, c, http.MethodGet, "/security/users", url.Values{"user_ids": {strconv.Itoa(id)}}, nil)
}

// CreateUser creates a user (POST /security/users); the manager requires 8-64 characters with upper and lower case, a digit and a symbol.
func (c *Client) CreateUser(ctx context.Context, username, password string) (*User, error) {
	body := map[string]string{"username": username, "password": password}
	return getOne[User](ctx, c, http.MethodPost, "/security/users", nil, body)
}

// UpdateUser changes a user's password (PUT /security/users/{id}); the user's tokens are revoked.
func (c *Client) UpdateUser(ctx context.Context, id int, password string) (*User, error) {
	if password == "" {
		return nil, errors.New("UpdateUser: empty password (Wazuh 4.14.7 would store it)")
	}
	body := map[string]string{"password": password}
	return getOne[User](ctx, c, http.MethodPut, "/security/users/"+strconv.Itoa(id), nil, body)
}

// DeleteUsers deletes users by id (DELETE /security/users).
func (c *Client) DeleteUsers(ctx context.Context, ids []int) (*AffectedItems[User], error) {
	q, err := idsQuery("user_ids", ids)
	if err != nil {
		return nil, err
	}
	return getList[User](ctx, c, http.MethodDelete, "/security/users", q, nil)
}

// SetUserRunAs enables or disables authorization-context login for a user (PUT /security/users/{id}/run_as).
func (c *Client) SetUserRunAs(ctx context.Context, id int, allow bool) (*User, error) {
	q := url.Values{"allow_run_as": {strconv.FormatBool(allow)}}
	return getOne[User](ctx, c, http.MethodPut, "/security/users/"+strconv.Itoa(id)+"/run_as", q, nil)
}

// AddUserRoles links roles to a user at position (negative appends) (POST /security/users/{id}/roles).
func (c *Client) AddUserRoles(ctx context.Context, userID int, roleIDs []int, position int) (*AffectedItems[User], error) {
	q, err := idsQuery("role_ids", roleIDs)
	if err != nil {
		return nil, err
	}
	path := "/security/users/" + strconv.Itoa(userID) + "/roles"
	return getList[User](ctx, c, http.MethodPost, path, positionQuery(q, position), nil)
}

// RemoveUserRoles unlinks roles from a user (DELETE /security/users/{id}/roles).
func (c *Client) RemoveUserRoles(ctx context.Context, userID int, roleIDs []int) (*AffectedItems[User], error) {
	q, err := idsQuery("role_ids", roleIDs)
	if err != nil {
		return nil, err
	}
	return getList[User](ctx, c, http.MethodDelete, "/security/users/"+strconv.Itoa(userID)+"/roles", q, nil)
}
