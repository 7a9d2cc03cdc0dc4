// Package core holds muster's domain: the types (users, roles, policies,
// rules, agents, groups), the Store interfaces the databases implement, the
// services that enforce Wazuh's invariants and apply RBAC, and the catalogue
// of Wazuh error codes. It imports no HTTP and no SQL driver.
package core
