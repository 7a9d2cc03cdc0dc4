package agentproto

import (
	"fmt"
	"strconv"
	"strings"
)

// Message counters ("rids", spec §4.6).
//
// Sender: one (global, local) pair per process; the manager shares one pair
// across all agents. Before each message: if local >= 9997 then local = 0 and
// global++; then local++. A fresh sender therefore starts at 0000000000:0001.
//
// Receiver: one pair per agent. With verification on, a message is accepted
// only when (global, local) is greater than the stored pair; the same global
// with a local not above the stored one is a duplicate (1407), a smaller global
// is reported like a wrong key (1404). The reference ships with verification
// off (remoted.verify_msg_id=0): counters are stored, never compared. A
// reinstalled agent restarts its counters, which verification would reject.
//
// Persisted form (queue/rids/<id> and queue/rids/sender_counter): "global:local:".
const maxLocal = 9997

// Counters is a (global, local) counter pair. The zero value is a fresh pair
// with verification off. It is not safe for concurrent use.
type Counters struct {
	Global uint32
	Local  uint32
	// Verify makes Check enforce strictly increasing pairs.
	Verify bool
}

// Next advances the sender pair and returns the values for the next message.
func (c *Counters) Next() (global, local uint32) {
	if c.Local >= maxLocal {
		c.Local = 0
		c.Global++
	}
	c.Local++
	return c.Global, c.Local
}

// Check judges a received pair. It accepts and stores the pair unless Verify
// is set and the pair is not above the stored one; a rejected pair leaves the
// state unchanged.
func (c *Counters) Check(global, local uint32) error {
	if c.Verify && (global < c.Global || (global == c.Global && local <= c.Local)) {
		if global == c.Global {
			return fmt.Errorf("%w: got %d:%d, last %d:%d", ErrDuplicateCounter, global, local, c.Global, c.Local)
		}
		return fmt.Errorf("%w: got %d:%d, last %d:%d", ErrOldCounter, global, local, c.Global, c.Local)
	}
	c.Global, c.Local = global, local
	return nil
}

// String returns the persisted form "global:local:".
func (c Counters) String() string {
	return strconv.FormatUint(uint64(c.Global), 10) + ":" + strconv.FormatUint(uint64(c.Local), 10) + ":"
}

// ParseCounters reads the persisted form ("global:local:", the trailing colon
// optional). Verification is off in the result.
func ParseCounters(s string) (Counters, error) {
	g, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	l := strings.TrimSuffix(rest, ":")
	gv, err1 := strconv.ParseUint(g, 10, 32)
	lv, err2 := strconv.ParseUint(l, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return Counters{}, fmt.Errorf("agentproto: invalid counter file %q", s)
	}
	return Counters{Global: uint32(gv), Local: uint32(lv)}, nil
}
