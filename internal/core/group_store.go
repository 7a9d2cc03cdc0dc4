package core

import "context"

// GroupFileRow is one entry of the groups' files as the store keeps them:
// a file of a group, the shared root's ar.conf (Group ""), or the marker
// row that makes a group exist (Name "").
type GroupFileRow struct {
	Group string
	Name  string
	Sum   string // hex MD5 of Data ("" for a group marker)
	MTime int64  // modification time, Unix nanoseconds
	Data  []byte // nil in listings
}

// GroupFileChange is one write of ApplyGroupFiles.
type GroupFileChange struct {
	GroupFileRow
	// Delete removes the file; with Name "" the group and all its files.
	Delete bool
	// IfAbsent writes only when no row exists (imports, default files); for
	// a group marker it is how a group is created exclusively.
	IfAbsent bool
	// IfSum, for a delete, removes the row only while its sum is this one
	// (a deletion seen on one node's disk must not undo a newer write).
	IfSum string
	// NotOlder skips a put when the stored row is newer (last write wins).
	NotOlder bool
}

// GroupFileStore keeps the groups and their files, shared by every node on
// one store. A file of a group is written only while the group's marker
// row exists.
type GroupFileStore interface {
	// GroupState returns the version every group write bumps and the
	// store's epoch, a random identity made once per store.
	GroupState(ctx context.Context) (version int64, epoch string, err error)
	// ListGroupFiles returns every row without its data.
	ListGroupFiles(ctx context.Context) ([]GroupFileRow, error)
	// ReadGroupFiles returns the rows of these groups with their data.
	ReadGroupFiles(ctx context.Context, groups []string) ([]GroupFileRow, error)
	// ApplyGroupFiles applies changes in order in one transaction and bumps
	// the version; applied tells which took effect.
	ApplyGroupFiles(ctx context.Context, changes []GroupFileChange) (applied []bool, err error)
	// SetGroupConfigStatus sets group_config_status of the agents whose
	// group list is groups (comma-separated, as the agent table holds it):
	// synced when their reported merged sum is sum, else not synced.
	SetGroupConfigStatus(ctx context.Context, groups string, sum string) error
}
