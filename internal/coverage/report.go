package coverage

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// SchemaVersion is the version of the JSON report's schema (docs/coverage.md).
const SchemaVersion = 1

// Report is the result of one coverage run. Its exported fields are its JSON form.
type Report struct {
	Schema       int                 `json:"schema_version"`
	StartedAt    time.Time           `json:"started_at"`
	Duration     float64             `json:"duration_seconds"`
	Window       float64             `json:"window_seconds"` // "seen alive recently"
	Sources      []SourceStatus      `json:"sources"`
	Devices      []Device            `json:"devices"`
	Findings     []Finding           `json:"findings"`
	Requirements []RequirementResult `json:"requirements"`
	Matrix       []MatrixRow         `json:"matrix"` // source × source: devices known to both
	Summary      Summary             `json:"summary"`
	Breaches     []Breach            `json:"breaches"`
	Notes        []string            `json:"notes"`
	ExitCode     int                 `json:"exit_code"`
	// Trend is the coverage of earlier recorded runs and this one, oldest
	// first; only filled when a history is configured.
	Trend []TrendPoint `json:"trend,omitempty"`
}

// Source statuses.
const (
	SourceOK          = "ok"
	SourceUnavailable = "unavailable"
)

// SourceStatus is how one source's fetch went.
type SourceStatus struct {
	Name         string  `json:"name"`
	Kind         string  `json:"kind"`
	Status       string  `json:"status"`           // ok or unavailable
	Reason       string  `json:"reason,omitempty"` // why it is unavailable
	Records      int     `json:"records"`          // records fetched
	Devices      int     `json:"devices"`          // devices those records belong to
	Unidentified int     `json:"unidentified"`     // records with no identifier at all (reported, not matched)
	FetchSeconds float64 `json:"fetch_seconds"`
}

// Device is one machine: the records of every source that were joined.
type Device struct {
	ID      string    `json:"id"`   // stable across runs while its identifiers stay: derived from them
	Name    string    `json:"name"` // the best host name its records give
	Records []*Record `json:"records"`
	Joins   []Join    `json:"joins"` // why these records are one device; empty for a single record
}

// Join says that two records were joined, and by which identifier.
type Join struct {
	By    string // serial, mac or hostname
	Value string // the normalised value they share
	// Records are the joined records, where the connectors left them.
	Records []*Record
	// IPs are addresses every joined record reports too: corroboration,
	// never a reason to join by themselves.
	IPs []string
}

// Refs names the joined records as "source/record id".
func (j Join) Refs() []string {
	out := make([]string, len(j.Records))
	for i, r := range j.Records {
		out[i] = r.Source + "/" + r.ID
	}
	return out
}

// MarshalJSON writes the records by reference: their names are made here,
// not held for every join of every device.
func (j Join) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		By    string   `json:"by"`
		Value string   `json:"value"`
		Refs  []string `json:"records"`
		IPs   []string `json:"corroborating_ips,omitempty"`
	}{j.By, j.Value, j.Refs(), j.IPs})
}

// Finding kinds, in report order.
const (
	KindMissingAgent     = "missing_agent"
	KindSilentFailure    = "silent_failure"
	KindOrphan           = "orphan"
	KindDuplicate        = "duplicate"
	KindStaleEverywhere  = "stale_everywhere"
	KindIdentityConflict = "identity_conflict"
	KindUnidentified     = "unidentified"
)

// FindingKinds lists every finding kind in report order.
var FindingKinds = []string{KindMissingAgent, KindSilentFailure, KindOrphan, KindDuplicate,
	KindStaleEverywhere, KindIdentityConflict, KindUnidentified}

// Finding is one problem with its evidence.
type Finding struct {
	Key     string   `json:"key"` // stable across runs: kind, device and sources
	Kind    string   `json:"kind"`
	Device  string   `json:"device"`  // Device.ID
	Name    string   `json:"name"`    // the device's name, for readers
	Sources []string `json:"sources"` // SourceStatus names: the inventories the finding rests on
	// Message is the finding in words; read it with Text. The engine
	// leaves it empty for missing_agent and silent_failure, the findings
	// made by the hundred thousand, whose words Text makes from their
	// sources and evidence, so that a run does not hold them.
	Message  string     `json:"message"`
	Evidence []Evidence `json:"evidence"`
	// Silent is the detail of a silent_failure (read it with
	// SilentDetail): who saw the device alive, and the agent that is not
	// healthy. The engine leaves it nil: its evidence holds both records.
	Silent *Silent `json:"silent,omitempty"`
	// Requirement is the index of the requirement a missing_agent or
	// silent_failure breaks.
	Requirement *int `json:"requirement,omitempty"`
}

// Text is the finding in words: Message, or the words of a missing_agent
// or silent_failure made from its sources and evidence.
func (f Finding) Text() string {
	if f.Message != "" {
		return f.Message
	}
	switch {
	case f.Kind == KindMissingAgent && len(f.Sources) > 1:
		known, m := f.Sources[:len(f.Sources)-1], f.Sources[len(f.Sources)-1]
		verb := "knows"
		if len(known) > 1 {
			verb = "know"
		}
		return fmt.Sprintf("%s %s this machine, but %s has no record of it", strings.Join(known, " and "), verb, m)
	case f.Kind == KindSilentFailure:
		if s := f.SilentDetail(); s != nil {
			return s.text()
		}
	}
	return ""
}

// SilentDetail is a silent_failure's detail: Silent, or made from its
// evidence (the record that saw the device alive, then the agent's).
func (f Finding) SilentDetail() *Silent {
	if f.Silent != nil || f.Kind != KindSilentFailure || len(f.Evidence) != 2 {
		return f.Silent
	}
	return silentOf(f.Evidence[0].Record, f.Evidence[1].Record)
}

// MarshalJSON writes the finding with its words and detail.
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding // the fields and tags, without this method
	f.Message, f.Silent = f.Text(), f.SilentDetail()
	return json.Marshal(plain(f))
}

func silentOf(alive, agent *Record) *Silent {
	s := &Silent{AliveSource: alive.Source, AliveState: alive.State, AliveAt: alive.LastSeen.UTC(),
		AgentSource: agent.Source, AgentState: agent.State, GapSeconds: -1}
	if !agent.LastSeen.IsZero() {
		s.AgentSeen = agent.LastSeen.UTC()
		s.GapSeconds = s.AliveAt.Sub(s.AgentSeen).Seconds()
	}
	return s
}

// text is a silent_failure's words.
func (s *Silent) text() string {
	gap := "it was never seen"
	if !s.AgentSeen.IsZero() {
		switch d := s.AliveAt.Sub(s.AgentSeen); {
		case d > 0:
			gap = "it was last seen " + shortDuration(d) + " earlier, at " + s.AgentSeen.Format(time.RFC3339)
		case d == 0:
			gap = "it was last seen at that same time"
		default: // the agent stopped after that sighting: the gap is negative
			gap = "it was last seen at " + s.AgentSeen.Format(time.RFC3339) + ", " + shortDuration(d) + " after that sighting"
		}
	}
	return fmt.Sprintf("%s saw this machine alive (%s) at %s, but its %s agent is %s: %s",
		s.AliveSource, s.AliveState, s.AliveAt.Format(time.RFC3339), s.AgentSource, s.AgentState, gap)
}

// Evidence is one source record behind a finding. It points at the record
// the connector made instead of copying it, so that 100,000 findings do not
// hold 100,000 more copies of their records.
type Evidence struct{ *Record }

// RecordID is the record's id within its source.
func (e Evidence) RecordID() string { return e.ID }

// evidenceJSON is Evidence's JSON form.
type evidenceJSON struct {
	Source   string    `json:"source"`
	RecordID string    `json:"record_id"`
	Hostname string    `json:"hostname,omitempty"`
	State    string    `json:"state"`
	Healthy  bool      `json:"healthy"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	Fields   Fields    `json:"fields,omitempty"`
	ReadAt   time.Time `json:"read_at"`
	Request  string    `json:"request"`
}

// MarshalJSON writes the record's fields a finding rests on.
func (e Evidence) MarshalJSON() ([]byte, error) {
	r := e.Record
	return json.Marshal(evidenceJSON{Source: r.Source, RecordID: r.ID, Hostname: r.Hostname, State: r.State,
		Healthy: r.Healthy, LastSeen: r.LastSeen, Fields: r.Fields, ReadAt: r.ReadAt, Request: r.Request})
}

// Silent details a silent_failure.
type Silent struct {
	AliveSource string    `json:"alive_source"`
	AliveState  string    `json:"alive_state"`
	AliveAt     time.Time `json:"alive_at"`
	AgentSource string    `json:"agent_source"`
	AgentState  string    `json:"agent_state"`
	AgentSeen   time.Time `json:"agent_last_seen,omitzero"` // zero: never
	GapSeconds  float64   `json:"gap_seconds"`              // AliveAt - AgentSeen; -1 when the agent was never seen
}

// RequirementResult is the coverage of one requirement.
type RequirementResult struct {
	Index    int      `json:"index"`
	Scope    []string `json:"scope"`
	MustHave []string `json:"must_have"`
	Filter   string   `json:"filter,omitempty"` // the scope's filters, written out
	InScope  int      `json:"in_scope"`         // devices the scope sources know (and the filters keep)
	Covered  int      `json:"covered"`          // of those, with a healthy record in every must_have source
	Ratio    float64  `json:"ratio"`            // covered / in_scope; 1 when nothing is in scope
	// Skipped says why the requirement was not evaluated (a source it needs is unavailable).
	Skipped string `json:"skipped,omitempty"`
}

// MatrixRow is one source's overlap with every source: Both[j] devices known
// to this source and to Sources[j] (the diagonal is the source's own count).
type MatrixRow struct {
	Source string `json:"source"`
	Both   []int  `json:"both"`
}

// Summary counts findings per kind, and devices.
type Summary struct {
	Devices  int            `json:"devices"`
	Findings map[string]int `json:"findings"`
}

// Breach is a finding kind whose count is over its limit.
type Breach struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
	Limit string `json:"limit"`
	Max   int    `json:"max"`
}

// TrendPoint is one recorded run's coverage.
type TrendPoint struct {
	At       time.Time      `json:"at"`
	Ratios   []float64      `json:"ratios"` // per requirement, in Requirements order; -1 when skipped
	Findings map[string]int `json:"findings"`
}
