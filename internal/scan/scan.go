package scan

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/muster-project/muster/client"
)

// DefaultPageSize is how many agents one request asks for: large enough that
// 100,000 agents take 20 requests (well under the default 300 requests per
// minute), small enough that a Wazuh manager answers each within its 10 s
// request timeout.
const DefaultPageSize = 5000

// DefaultBuckets are the age bucket bounds: one day, three days (the
// thresholds practitioners use) and thirty days (the usual recency gate).
var DefaultBuckets = []time.Duration{24 * time.Hour, 72 * time.Hour, 30 * 24 * time.Hour}

// DefaultNeverConnectedGrace is how long a registered agent may take to connect before it is a finding.
const DefaultNeverConnectedGrace = 24 * time.Hour

// selectFields are the agent fields classification needs; asking for only
// these keeps each page small (no os, sums or uname).
var selectFields = []string{"name", "ip", "status", "status_code", "version", "node_name", "dateAdd",
	"lastKeepAlive", "disconnection_time", "group", "group_config_status"}

// Options tune a scan; the zero value uses the defaults.
type Options struct {
	PageSize            int                   // agents per request; 0 means DefaultPageSize
	NotifyTime          time.Duration         // agents' keepalive interval; 0 derives it from the manager version
	StaleAfter          time.Duration         // 0 derives it: min(3 × notify time, agents_disconnection_time)
	DisconnectionTime   time.Duration         // 0 reads it from the manager
	NeverConnectedGrace time.Duration         // 0 means DefaultNeverConnectedGrace
	Buckets             []time.Duration       // nil means DefaultBuckets
	Thresholds          Thresholds            // nil means DefaultThresholds
	AllAgents           bool                  // list healthy agents in Report.Agents too
	PerAgent            bool                  // keep every agent's keepalive age for per-agent metrics
	Progress            func(done, total int) // called after every page
	Now                 func() time.Time      // nil means time.Now
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) defaults() {
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.NeverConnectedGrace <= 0 {
		o.NeverConnectedGrace = DefaultNeverConnectedGrace
	}
	if o.Buckets == nil {
		o.Buckets = DefaultBuckets
	}
	if o.Thresholds == nil {
		o.Thresholds = DefaultThresholds()
	}
}

// Error is a scan that could not complete; its exit code is 2.
type Error struct {
	Stage string // "settings" or "agents"
	Seen  int    // agents received before the failure
	Err   error
}

func (e *Error) Error() string {
	hint := "; run `muster doctor` with the same connection flags to find the cause"
	if e.Stage == "agents" && e.Seen > 0 {
		return fmt.Sprintf("could not scan: listing agents failed after %d of them: %v%s", e.Seen, e.Err, hint)
	}
	return fmt.Sprintf("could not scan: %v%s", e.Err, hint)
}

func (e *Error) Unwrap() error { return e.Err }

// ExitCode is 2: the scan could not run.
func (e *Error) ExitCode() int { return 2 }

// Run scans every agent once with c and returns the report; its ExitCode is
// 0 (healthy) or 1 (a finding over its threshold). Any failure is an *Error.
func Run(ctx context.Context, c *client.Client, o Options) (*Report, error) {
	o.defaults()
	start := o.now()
	var b *builder
	set, notes, err := each(ctx, c, &o, nil, func(r Rules) { b = newBuilder(r) }, func(a *client.Agent) { b.add(a) })
	if err != nil {
		return nil, err
	}
	r := b.finish(o.AllAgents)
	if !o.PerAgent {
		r.entries = nil // only per-agent metrics need a row for every agent
	}
	r.URL, r.StartedAt, r.Settings = c.BaseURL(), start.UTC(), set
	r.Notes = append(r.Notes, notes...)
	r.Notes = append(r.Notes, b.sanityNotes(set)...)
	r.Logins = c.Logins()
	r.Breaches = o.Thresholds.Evaluate(r)
	if len(r.Breaches) > 0 {
		r.ExitCode = 1
	}
	r.Duration = o.now().Sub(start).Seconds()
	return r, nil
}

// Verdict is one agent's classification, as Run counts it.
type Verdict struct {
	Class    Class
	Findings []Finding
}

// Healthy reports an agent that works: active, with a recent keepalive.
func (v Verdict) Healthy() bool { return v.Class == ClassActive }

// Classify lists every agent with c, the manager's own agent 000 included,
// and gives each to fn with the verdict Run would give it (the same settings,
// rules and field selection, plus the extra fields asked for). It returns the
// settings used and notes on what the manager reported; any failure is an
// *Error, and then fn may have seen only part of the fleet.
func Classify(ctx context.Context, c *client.Client, o Options, extra []string, fn func(a *client.Agent, v Verdict)) (Settings, []string, error) {
	o.defaults()
	var rules Rules
	return each(ctx, c, &o, extra, func(r Rules) { rules = r }, func(a *client.Agent) {
		e := rules.classify(a)
		fn(a, Verdict{Class: e.class, Findings: e.findings.list()})
	})
}

// each reads the settings, hands the rules to start, then streams every agent to add.
func each(ctx context.Context, c *client.Client, o *Options, extra []string, start func(Rules), add func(*client.Agent)) (Settings, []string, error) {
	set, rules, notes, err := readSettings(ctx, c, o)
	if err != nil {
		return set, nil, &Error{Stage: "settings", Err: err}
	}
	start(rules)
	sel := append(slices.Clip(selectFields), extra...)
	for {
		n, failed, err := walk(ctx, c, add, sel, o)
		notes = append(notes, failed...)
		if err != nil && sel != nil && n == 0 && badSelect(err) {
			notes = append(notes, "the manager refused the field selection; the scan fetched whole agent records")
			sel = nil
			continue
		}
		if err != nil {
			return set, notes, &Error{Stage: "agents", Seen: n, Err: err}
		}
		if n == 0 {
			return set, notes, &Error{Stage: "agents", Err: errors.New("the manager listed no agent at all, not even its own (000): " +
				"RBAC hides every agent from this user, who lacks agent:read on agent:id:*; give it a role allowing that (the built-in agents_readonly role does)")}
		}
		return set, notes, nil
	}
}

// walk streams the agents to add; it returns how many arrived and notes on failed items.
func walk(ctx context.Context, c *client.Client, add func(*client.Agent), sel []string, o *Options) (int, []string, error) {
	var notes []string
	n := 0
	q := client.AgentQuery{Select: sel}
	for a, err := range c.AllAgents(ctx, q, o.PageSize, client.PageProgress(o.progress)) {
		if err != nil {
			var e *client.Error
			if errors.As(err, &e) && e.Status == http.StatusOK && e.Title == "Failed item" {
				notes = append(notes, "the manager reported failed items: "+err.Error())
				continue
			}
			return n, notes, err
		}
		n++
		add(&a)
	}
	if err := ctx.Err(); err != nil {
		return n, notes, err
	}
	return n, notes, nil
}

func (o *Options) progress(done, total int) {
	if o.Progress != nil {
		o.Progress(done, total)
	}
}

// badSelect reports a 400 that names the select parameter (Wazuh code 1724 or a schema error).
func badSelect(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Status == http.StatusBadRequest &&
		(e.Code == 1724 || containsFold(e.Detail, "select"))
}

// sanityNotes flags what looks wrong with the manager rather than with agents.
func (b *builder) sanityNotes(s Settings) []string {
	var out []string
	limit := 2*s.DisconnectionTime.Duration() + time.Minute
	overdue := 0
	for i := range b.entries {
		e := &b.entries[i]
		if e.class == ClassStale && e.age > limit {
			overdue++
		}
	}
	if overdue > 0 {
		out = append(out, fmt.Sprintf("%d agents are still reported active although silent for longer than 2 × agents_disconnection_time (%s): the manager's disconnection sweep may not be running",
			overdue, FormatAge(2*s.DisconnectionTime.Duration())))
	}
	if b.seen > 0 && b.seen == len(b.entries) {
		out = append(out, "the manager did not list its own agent 000: RBAC may hide part of the fleet from this user (agent:read)")
	}
	return out
}

// Watch scans every interval until ctx ends, calling fn with each result. The
// client, and so its token, is shared by every run: a scan logs in again only
// when the token expires or is revoked.
func Watch(ctx context.Context, c *client.Client, o Options, every time.Duration, fn func(*Report, error)) {
	for {
		r, err := Run(ctx, c, o)
		if ctx.Err() != nil {
			return
		}
		fn(r, err)
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
