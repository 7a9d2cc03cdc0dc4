// Package core holds muster's domain: the types (users, roles, policies,
// rules, agents, groups), the Store interfaces the databases implement, the
// services that enforce Wazuh's invariants and apply RBAC, and the catalogue
// of Wazuh error codes. It imports no HTTP and no SQL driver.
//
// Everything several nodes must agree on lives in the store: the security
// layer, the agent registry, and the groups with their files (the node's
// etc/shared is a cache of the store's groups, see group_sync.go).
package core
