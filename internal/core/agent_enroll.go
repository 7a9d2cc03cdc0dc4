package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MaxAgentNameLen is Wazuh's AGENT_NAME_LEN_LIMIT.
const MaxAgentNameLen = 128

// ForceRules decide whether a registration may replace an existing agent
// with the same name, IP or id (authd's <force> block, agents.md §4.1).
type ForceRules struct {
	Enabled              bool
	DisconnectedTime     bool  // disconnected_time.enabled
	DisconnectedFor      int64 // disconnected_time.value, seconds
	AfterRegistrationFor int64 // after_registration_time, seconds
}

// DefaultForce is authd's default: replace agents disconnected for an hour
// and registered more than an hour ago.
var DefaultForce = ForceRules{Enabled: true, DisconnectedTime: true, DisconnectedFor: 3600, AfterRegistrationFor: 3600}

// Replaceable applies the rules to the existing agent old at time now.
func (f ForceRules) Replaceable(old *Agent, now int64) bool {
	if !f.Enabled || old.ID == 0 {
		return false
	}
	if f.DisconnectedTime && old.Status != AgentNeverConnected {
		if old.DisconnectionTime == 0 {
			return false // active or pending
		}
		if old.Status == AgentDisconnected && now-old.DisconnectionTime < f.DisconnectedFor {
			return false
		}
	}
	if f.AfterRegistrationFor > 0 && now-old.DateAdd < f.AfterRegistrationFor {
		return false
	}
	return true
}

var timeframeRe = regexp.MustCompile(`^(\d+)([dhms]?)$`)

// ParseTimeframe reads a time frame: digits (seconds) with an optional unit
// d, h, m or s.
func ParseTimeframe(s string) (int64, bool) {
	m := timeframeRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > 1<<40 {
		return 0, false
	}
	switch m[2] {
	case "d":
		n *= 86400
	case "h":
		n *= 3600
	case "m":
		n *= 60
	}
	return n, true
}

// NewAgent is a registration through the API.
type NewAgent struct {
	Name  string
	IP    string // as sent; "" means any
	ID    string // POST /agents/insert only; "" allocates the next id
	Key   string // POST /agents/insert only; "" generates one
	Force ForceRules
}

// Registration is the answer of the registration endpoints.
type Registration struct {
	ID  string `json:"id"`
	Key string `json:"key"` // base64 of the client.keys line
}

// ValidRegisterIP checks a registration address as Wazuh does: "any" (any
// case), an IPv4 or IPv6 address, or a network written with its base
// address ("10.0.0.0/24", not "10.0.0.1/24").
func ValidRegisterIP(ip string) bool {
	if strings.EqualFold(ip, "any") {
		return true
	}
	if i := strings.IndexByte(ip, '/'); i > 0 {
		p, err := netip.ParsePrefix(ip)
		return err == nil && p.Masked() == p
	}
	_, err := netip.ParseAddr(ip)
	return err == nil
}

// NewKey returns a 64-hex agent key from the system's CSPRNG.
func NewKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Register enrolls an agent (POST /agents, /agents/insert and
// /agents/insert/quick); the caller has checked agent:create.
func (a *Agents) Register(ctx context.Context, n NewAgent) (*Registration, error) {
	if len(n.Name) > MaxAgentNameLen {
		return nil, E(1738)
	}
	ip := n.IP
	if ip == "" {
		ip = "any"
	}
	if !ValidRegisterIP(ip) {
		return nil, Ef(1706, "%s", ip)
	}
	e := Enrollment{Name: n.Name, IP: strings.ToLower(ip), Key: n.Key, Force: n.Force,
		ManagerName: a.hostname, Now: a.now().Unix()}
	if n.ID != "" {
		id, err := strconv.Atoi(n.ID)
		if err != nil || id < 0 || id > 999999999 {
			return nil, Ef(1708, "%s", n.ID)
		}
		if id == 0 {
			return nil, Ef(1708, "%s", FormatAgentID(0))
		}
		e.ID = id
	}
	if e.Key == "" {
		e.Key = NewKey()
	}
	res, err := a.enroll(ctx, e)
	if err != nil {
		return nil, err
	}
	line := keyBase64Line(res.ID, n.Name, ip, e.Key)
	return &Registration{ID: FormatAgentID(res.ID), Key: encodeKeyLine(line)}, nil
}

// enrollReq is one registration waiting for the enrollment writer.
type enrollReq struct {
	e    Enrollment
	resp enrollResp // set by the writer
	done chan enrollResp
}

type enrollResp struct {
	r   EnrollResult
	err error
}

// enroll hands an enrollment to the writer and waits for its outcome.
func (a *Agents) enroll(ctx context.Context, e Enrollment) (EnrollResult, error) {
	if !a.started.Load() {
		return EnrollResult{}, Internal(errors.New("agent registry used before Start"))
	}
	req := &enrollReq{e: e, done: make(chan enrollResp, 1)}
	select {
	case a.enrollQ <- req:
	case <-ctx.Done():
		return EnrollResult{}, ctx.Err()
	}
	select {
	case resp := <-req.done:
		if resp.err != nil {
			return resp.r, resp.err
		}
		if resp.r.Err != nil {
			return resp.r, resp.r.Err
		}
		return resp.r, nil
	case <-ctx.Done():
		return EnrollResult{}, ctx.Err()
	}
}

// maxEnrollBatch bounds how many registrations share one transaction.
const maxEnrollBatch = 512

// enrollLinger is how long the writer waits for company once the previous
// batch showed concurrent enrollers: a transaction's fixed cost (begin,
// counters, commit) is then shared by several agents, for a delay that is
// small beside a TLS handshake. A lone enrollment never waits.
const enrollLinger = time.Millisecond

// runEnroller is the single enrollment writer: it takes every registration
// waiting and applies them in one store transaction. Their client.keys
// lines go to runKeysWriter, which appends every batch committed meanwhile
// with one write and one fsync before answering: the next transaction
// runs while the previous lines are being synced.
func (a *Agents) runEnroller(ctx context.Context) {
	done := make(chan []*enrollReq, 64)
	go a.runKeysWriter(ctx, done)
	linger := time.NewTimer(enrollLinger)
	linger.Stop()
	busy := false
	for {
		var batch []*enrollReq
		select {
		case <-ctx.Done():
			return
		case r := <-a.enrollQ:
			batch = append(batch, r)
		}
		if busy {
			linger.Reset(enrollLinger)
		wait:
			for len(batch) < maxEnrollBatch {
				select {
				case r := <-a.enrollQ:
					batch = append(batch, r)
				case <-linger.C:
					break wait
				case <-ctx.Done():
					break wait
				}
			}
			linger.Stop()
		}
	more:
		for len(batch) < maxEnrollBatch {
			select {
			case r := <-a.enrollQ:
				batch = append(batch, r)
			default:
				break more
			}
		}
		busy = len(batch) > 1
		a.applyEnrollments(ctx, batch)
		select {
		case done <- batch:
		case <-ctx.Done():
			return
		}
	}
}

// runKeysWriter writes the client.keys lines of committed batches, then
// answers their requests.
func (a *Agents) runKeysWriter(ctx context.Context, done <-chan []*enrollReq) {
	for {
		var reqs []*enrollReq
		select {
		case <-ctx.Done():
			return
		case b := <-done:
			reqs = append(reqs, b...)
		}
	more:
		for {
			select {
			case b := <-done:
				reqs = append(reqs, b...)
			default:
				break more
			}
		}
		var added []KeyEntry
		replaced := false
		for _, r := range reqs {
			if r.resp.err != nil || r.resp.r.Err != nil {
				continue
			}
			added = append(added, KeyEntry{ID: r.resp.r.ID, Name: r.e.Name, IP: r.e.IP, Key: r.e.Key})
			replaced = replaced || len(r.resp.r.Replaced) > 0
		}
		var err error
		if replaced {
			err = a.keys.rewrite(ctx)
		} else if len(added) > 0 {
			err = a.keys.add(ctx, added)
		}
		if err != nil {
			a.log.Error("client.keys update failed; it will be rewritten", "err", err)
		}
		for _, r := range reqs {
			r.done <- r.resp
		}
	}
}

// applyEnrollments runs a batch in the store and records each outcome in
// its request.
func (a *Agents) applyEnrollments(ctx context.Context, batch []*enrollReq) {
	es := make([]Enrollment, len(batch))
	for i, r := range batch {
		es[i] = r.e
	}
	res, err := a.store.RegisterAgents(ctx, es)
	if err != nil {
		if len(batch) > 1 {
			// One of them hit a conflict the checks could not see (another
			// node): apply them one by one.
			for _, r := range batch {
				a.applyEnrollments(ctx, []*enrollReq{r})
			}
			return
		}
		if errors.Is(err, ErrConflict) {
			res, err = a.store.RegisterAgents(ctx, es)
		}
		if err != nil {
			batch[0].resp = enrollResp{err: Internal(err)}
			return
		}
	}
	for i, r := range batch {
		r.resp = enrollResp{r: res[i]}
	}
}
