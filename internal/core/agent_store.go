package core

import (
	"context"
	"time"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/rbac"
)

// AgentFilter selects agents: every set part is AND-ed.
type AgentFilter struct {
	// IDs restricts to these ids when non-nil (an empty non-nil slice selects nothing).
	IDs []int
	// RBAC is the caller's agent filter when the request named no ids.
	RBAC *rbac.Filter
	// Cond holds the named filters, status, older_than and the caller's q,
	// each already a bracketed node.
	Cond agentql.Node
	// Search is the search parameter, when given.
	Search *agentql.Search
	// NotManager leaves agent 000 out.
	NotManager bool
	// Now is the instant relative date filters count back from.
	Now time.Time
}

// AgentListQuery is one page of a filtered agent list.
type AgentListQuery struct {
	Filter AgentFilter
	Fields AgentField // fields to load; id is always loaded
	Sort   []agentql.SortField
	Offset int
	Limit  int // 0 means no limit
	// Distinct returns distinct rows of Fields whose values are all set and
	// not empty, without the id.
	Distinct bool
}

// AgentCount is one row of a grouped count: the values of the grouped fields
// (a NULL value is Valid=false) and how many agents have them.
type AgentCount struct {
	Values []Null[string]
	Count  int
}

// AgentCountQuery groups the agents matching Filter by Fields (API names).
type AgentCountQuery struct {
	Filter AgentFilter
	Fields []string
	Sort   []agentql.SortField // over Fields, or "count"; default: the smallest id of each group
	Offset int
	Limit  int // 0 means no limit
}

// Enrollment is one registration request as the store applies it.
type Enrollment struct {
	ID    int    // 0: allocate the next id
	Name  string // validated
	IP    string // register_ip: "any", an address or a network (lower-cased)
	Key   string // the 64-character key
	Force ForceRules
	// ManagerName is the manager's host name, which no agent may take.
	ManagerName string
	Now         int64
}

// EnrollResult is the outcome of one Enrollment: the new id, or an error
// (1705, 1706, 1708) saying which duplicate could not be replaced.
type EnrollResult struct {
	ID       int
	Replaced []int // agents removed to make room
	Err      *Error
}

// KeyEntry is one line of client.keys.
type KeyEntry struct {
	ID   int
	Name string
	IP   string
	Key  string
}

// GroupChange sets the groups of one agent (in priority order; empty means NULL).
type GroupChange struct {
	ID     int
	Groups []string
}

// AgentStore keeps the agent registry: global.db's agent, group and belongs
// tables. Not-found ids are simply absent from results.
type AgentStore interface {
	// InitAgents prepares the dialect's extra indexes; it is idempotent.
	InitAgents(ctx context.Context) error
	// PutAgents inserts or replaces whole records with their ids (agent 000,
	// imports, seeding), keeping the id counter above them.
	PutAgents(ctx context.Context, agents []Agent) error
	// RegisterAgents applies enrollments in order in one transaction; a
	// failed one does not stop the others.
	RegisterAgents(ctx context.Context, es []Enrollment) ([]EnrollResult, error)
	// DeleteAgents removes agents and their memberships; it returns the ids removed.
	DeleteAgents(ctx context.Context, ids []int) ([]int, error)
	// ListAgents returns a page and the number of matches before paging.
	ListAgents(ctx context.Context, q AgentListQuery) ([]Agent, int, error)
	// EachAgent hands the agents of a page one by one to fn (the record is
	// reused: copy what must outlive the call) and returns the number of
	// matches before paging.
	EachAgent(ctx context.Context, q AgentListQuery, fn func(*Agent) error) (int, error)
	// CountAgents groups matching agents; total is the number of matching agents.
	CountAgents(ctx context.Context, q AgentCountQuery) (rows []AgentCount, total int, err error)
	// AgentGroups returns the groups of those ids that exist (nil slice: no group).
	AgentGroups(ctx context.Context, ids []int) (map[int][]string, error)
	// GetAgents returns whole records, the key included, of the ids that exist.
	GetAgents(ctx context.Context, ids []int) ([]Agent, error)
	// KeyEntries returns every agent but 000 for client.keys, with the
	// registry version they reflect.
	KeyEntries(ctx context.Context) ([]KeyEntry, int64, error)
	// RegistryVersion changes whenever client.keys' content changes.
	RegistryVersion(ctx context.Context) (int64, error)

	// SetAgentGroups replaces the groups of agents (and their memberships).
	SetAgentGroups(ctx context.Context, changes []GroupChange) error
	// Groups returns the group names with their member counts over the agents
	// matching f (nil: every agent); groups without members count 0.
	Groups(ctx context.Context, f *AgentFilter) (map[string]int, error)
	// CreateGroups adds group rows that do not exist yet.
	CreateGroups(ctx context.Context, names []string) error
	// DeleteGroup removes a group and its memberships; agents left without a
	// group go back to default. It returns the ids of the agents it changed.
	DeleteGroup(ctx context.Context, name string) ([]int, error)

	// SweepAgents disconnects (status code 4) active and pending agents whose
	// last keepalive is older than before; it returns how many.
	SweepAgents(ctx context.Context, before, now int64) (int, error)
	// ResetAgents disconnects (status code 5) the active and pending agents of
	// a node whose last keepalive is older than before, as a manager restart
	// does.
	ResetAgents(ctx context.Context, node string, before, now int64) (int, error)
	// RecordKeepalive stores a keepalive: status, address, OS and sums.
	RecordKeepalive(ctx context.Context, k Keepalive) error
}

// Keepalive is what the secure channel learns from an agent's control
// message (protocols.md §7).
type Keepalive struct {
	ID                int
	Status            string // AgentActive or AgentPending
	IP                Null[string]
	OS                AgentOS
	Version           Null[string]
	ConfigSum         Null[string]
	MergedSum         Null[string]
	Manager           Null[string]
	NodeName          string
	GroupConfigStatus string
	Now               int64
}
