// Package rbac is the role-based access control engine of muster, a re-implementation of the decisions the
// Wazuh 4.14 server API takes for a token.
//
// It is pure: no I/O, no clock, no other muster package. Its pieces are:
//
//   - Compile flattens the ordered policies of a token's roles into processed policies (per action, the
//     resources with their effect, the later rule winning) and indexes them into an immutable Permissions
//     value that can be cached per verified token and shared between goroutines.
//   - Permissions.Processed renders what GET /security/users/me/policies returns.
//   - Permissions.Decide evaluates one Check (one set of actions and resource templates, the equivalent of
//     one expose_resources decorator in Wazuh) against the ids of a request. It returns, per resource
//     template, either the explicit ids allowed and denied, or a Filter the store applies when the request
//     named no ids, plus whether the whole call is a 403.
//   - ResourceTypes, Actions and ActionsFor serve GET /security/resources and GET /security/actions from the
//     OpenAPI catalogue; Requirement lets the route table declare the RBAC of each endpoint in one place.
//   - MatchRule and RolesForContext implement the authorization-context rules used by run_as logins.
//
// Deviations from Wazuh are listed in the comments of the names they affect; none of them changes a decision
// for data that the Wazuh API itself accepts.
package rbac
