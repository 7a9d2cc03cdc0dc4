package coverage

import (
	"context"
	"time"
)

// Record is one device as one source knows it. A connector fills it from the
// vendor's answer with a pure mapping; the engine never looks at raw answers.
type Record struct {
	Source   string    `json:"source"`             // the source's configured name
	ID       string    `json:"id"`                 // the record's id within that source
	Hostname string    `json:"hostname,omitempty"` // as the source reports it
	Serial   string    `json:"serial,omitempty"`   // hardware serial number
	MACs     []string  `json:"macs,omitempty"`     // as reported; the engine normalises them
	IPs      []string  `json:"ips,omitempty"`      // corroboration only, never a join by itself
	OS       string    `json:"os,omitempty"`       // a readable OS description (used by scopes)
	Groups   []string  `json:"groups,omitempty"`   // the source's groups, tags or device groups (used by scopes)
	State    string    `json:"state"`              // the source's own word for the agent's state
	Healthy  bool      `json:"healthy"`            // the agent works, by the source's own definition
	LastSeen time.Time `json:"last_seen,omitzero"` // when the source last saw the device alive; zero: never or unknown
	// Fields are the raw source fields the values above came from, by the
	// vendor's own field names, so a finding can show its evidence.
	Fields  Fields    `json:"fields,omitempty"`
	ReadAt  time.Time `json:"read_at"` // when the answer holding the record arrived
	Request string    `json:"request"` // the request that returned it, e.g. "GET https://h:55000/agents?offset=0&limit=5000" (never a secret)
}

// Progress reports a fetch's advance: done records so far of total (-1 when
// the source does not say how many there are).
type Progress func(done, total int)

// Source is one configured inventory. Fetch returns every record or an
// error: a partial walk is an error, never a shorter list, because a missing
// page would turn into "missing agent" findings.
type Source interface {
	Fetch(ctx context.Context, progress Progress) ([]Record, error)
}

// Closer is implemented by sources that hold a connection or a session
// between runs (--watch); Close ends it.
type Closer interface {
	Close() error
}
