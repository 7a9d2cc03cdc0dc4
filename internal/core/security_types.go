package core

import (
	"context"
	"encoding/json"
)

// MaxReservedID is the highest id of the objects Wazuh ships and protects.
const MaxReservedID = 99

// User is an API user.
type User struct {
	ID         int
	Username   string
	Password   string // Werkzeug hash
	AllowRunAs bool
	CreatedAt  string
}

// Role groups policies and authorization-context rules.
type Role struct {
	ID        int
	Name      string
	CreatedAt string
}

// Policy is a stored RBAC policy; Body is its JSON text as stored.
type Policy struct {
	ID        int
	Name      string
	Body      json.RawMessage
	CreatedAt string
}

// Rule is a security rule mapping an authorization context to a role.
type Rule struct {
	ID        int
	Name      string
	Body      json.RawMessage
	CreatedAt string
}

// Link relates two objects (user→role, role→policy, role→rule). Level is the
// position where the relation is ordered (role→rule links have none).
type Link struct {
	ID        int // the link row id: storage order
	From, To  int
	Level     int
	CreatedAt string
}

// Revocation invalidates tokens whose nbf is at or before NbfInvalidUntil; the
// row itself may be dropped once IsValidUntil has passed. Seq is the security
// version whose write made the row (set by the store; ignored on write): a
// token recorded in SecurityData.IssuedTokens as issued from that version or
// a later one came after the row and is not covered by it, even within the
// same second.
type Revocation struct {
	NbfInvalidUntil int64
	IsValidUntil    int64
	Seq             int64
}

// SecurityConfig is Wazuh's security configuration.
type SecurityConfig struct {
	AuthTokenExpTimeout int    `json:"auth_token_exp_timeout"`
	RBACMode            string `json:"rbac_mode"`
}

// DefaultSecurityConfig is what a fresh Wazuh manager uses.
func DefaultSecurityConfig() SecurityConfig {
	return SecurityConfig{AuthTokenExpTimeout: 900, RBACMode: "white"}
}

// SecurityData is everything the security layer keeps in the store.
type SecurityData struct {
	Users        []User
	Roles        []Role
	Policies     []Policy
	Rules        []Rule
	UserRoles    []Link
	RolePolicies []Link
	RoleRules    []Link
	UserRevoked  map[int]Revocation
	RoleRevoked  map[int]Revocation
	RunAsRevoked *Revocation
	// IssuedTokens maps the digest of a token issued in a second that a
	// blacklist row of its issuing snapshot covers to that snapshot's
	// Version. Tokens not listed fall under every row covering their nbf.
	IssuedTokens map[string]int64
	Config       SecurityConfig
	SigningKey   string // PEM of the ES512 private key; empty before first start
	Version      int64  // bumped by every write; other nodes poll it
}

// SecurityStore persists the security layer. Reads load it whole (it is
// small); writes run in one transaction.
type SecurityStore interface {
	LoadSecurity(ctx context.Context) (*SecurityData, error)
	SecurityVersion(ctx context.Context) (int64, error)
	UpdateSecurity(ctx context.Context, fn func(SecurityTx) error) error
}

// SecurityTx is the write side of SecurityStore, valid inside UpdateSecurity.
// Insert methods with id 0 allocate ids the way Wazuh does (100 while the
// table's highest id is below 99, else highest+1).
type SecurityTx interface {
	InsertUser(u User) (int, error)
	UpdateUser(u User) error
	DeleteUser(id int) error
	InsertRole(r Role) (int, error)
	UpdateRole(r Role) error
	DeleteRole(id int) error
	InsertPolicy(p Policy) (int, error)
	UpdatePolicy(p Policy) error
	DeletePolicy(id int) error
	InsertRule(r Rule) (int, error)
	UpdateRule(r Rule) error
	DeleteRule(id int) error
	// Link tables: "user_roles", "roles_policies", "roles_rules".
	InsertLink(table string, l Link) error
	UpdateLinkLevel(table string, from, to, level int) error
	DeleteLink(table string, from, to int) error
	RevokeUser(id int, r Revocation) error
	RevokeRole(id int, r Revocation) error
	RevokeRunAs(r Revocation) error
	// ClearRevocations empties the three blacklists; PurgeRevocations drops
	// rows that expired before now.
	ClearRevocations() error
	PurgeRevocations(now int64) error
	// RecordIssue records that the token with this digest was issued from
	// security version seq; the record may be dropped after validUntil.
	// ClearRevocations and PurgeRevocations apply to records too.
	RecordIssue(digest string, seq, validUntil int64) error
	SetConfig(c SecurityConfig) error
	SetSigningKey(pem string) error
}

// Link table names.
const (
	UserRolesTable    = "user_roles"
	RolePoliciesTable = "roles_policies"
	RoleRulesTable    = "roles_rules"
)
