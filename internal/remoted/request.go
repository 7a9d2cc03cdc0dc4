package remoted

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/core"
)

// Answers the request channel gives in place of the agent's when it fails,
// worded as Wazuh's remoted hands them to the API.
const (
	ReplyInternalError = "err Internal error"
	ReplySendError     = "err Cannot send request"
	ReplyAttemptsError = "err Maximum attempts exceeded"
	ReplyTimeout       = "err Response timeout"
)

// RequestOptions tune the request channel; the zero value of a field is
// Wazuh's internal option default.
type RequestOptions struct {
	// ResponseTimeout is remoted.response_timeout: the wait for the answer (60 s).
	ResponseTimeout time.Duration
	// RTO is remoted.request_rto_sec/msec: over UDP, the wait for the
	// agent's receipt before sending again (1 s).
	RTO time.Duration
	// MaxAttempts is remoted.max_attempts: UDP sends of one request (4).
	MaxAttempts int
	// PerAgent bounds the requests in flight to one agent (16).
	PerAgent int
	// SlotTimeout is remoted.request_timeout: the wait for a free slot (10 s).
	SlotTimeout time.Duration
}

func (o RequestOptions) withDefaults() RequestOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ResponseTimeout, 60*time.Second)
	def(&o.RTO, time.Second)
	def(&o.SlotTimeout, 10*time.Second)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 4
	}
	if o.PerAgent <= 0 {
		o.PerAgent = 16
	}
	return o
}

// requestTable holds the requests waiting for their agents' answers.
type requestTable struct {
	mu      sync.Mutex
	opts    RequestOptions
	set     bool
	pending map[string]*pendingRequest // "<agent id> <counter>"
	slots   map[int]chan struct{}      // per agent: a token per request in flight

	sent      atomic.Int64 // requests sent (resends included)
	unmatched atomic.Int64 // answers and receipts matching no pending request
}

type pendingRequest struct {
	acked  chan struct{} // closed by the agent's receipt
	ackOne sync.Once
	reply  chan []byte // the answer, at most one
}

// ConfigureRequests sets the request channel's timeouts and limits; call it
// before agents are asked anything (tests shorten the timeouts with it).
func (s *Server) ConfigureRequests(o RequestOptions) {
	s.req.mu.Lock()
	s.req.opts, s.req.set = o.withDefaults(), true
	s.req.mu.Unlock()
}

// UnmatchedReplies counts request answers that matched no pending request
// (late answers after a timeout, duplicates, forged counters): dropped.
func (s *Server) UnmatchedReplies() int64 { return s.req.unmatched.Load() }

// SentRequests counts the request messages sent to agents.
func (s *Server) SentRequests() int64 { return s.req.sent.Load() }

func (t *requestTable) options() RequestOptions {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.set {
		t.opts, t.set = RequestOptions{}.withDefaults(), true
	}
	return t.opts
}

// acquire takes one of the agent's request slots, waiting up to the slot
// timeout as Wazuh waits for its dispatcher pool.
func (t *requestTable) acquire(ctx context.Context, id int, o RequestOptions) (release func(), ok bool) {
	t.mu.Lock()
	if t.slots == nil {
		t.slots = map[int]chan struct{}{}
	}
	sem := t.slots[id]
	if sem == nil {
		sem = make(chan struct{}, o.PerAgent)
		t.slots[id] = sem
	}
	t.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, true
	default:
	}
	timer := time.NewTimer(o.SlotTimeout)
	defer timer.Stop()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, true
	case <-timer.C:
	case <-ctx.Done():
	}
	return nil, false
}

// add registers a request under a counter no other pending request of the
// agent holds.
func (t *requestTable) add(agent string) (string, *pendingRequest) {
	p := &pendingRequest{acked: make(chan struct{}), reply: make(chan []byte, 1)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending == nil {
		t.pending = map[string]*pendingRequest{}
	}
	for {
		c := agentproto.FormatCounter(rand.Uint32())
		if _, dup := t.pending[agent+" "+c]; !dup {
			t.pending[agent+" "+c] = p
			return c, p
		}
	}
}

func (t *requestTable) remove(agent, counter string) {
	t.mu.Lock()
	delete(t.pending, agent+" "+counter)
	t.mu.Unlock()
}

// AgentRequest sends "<component> <command>" to a connected agent and waits
// for its answer. It returns what Wazuh's remoted gives the API: the
// agent's answer ("ok {...}", "err ...", a JSON object), or one of the
// Reply* texts when the channel fails. The error is only ctx's.
func (s *Server) AgentRequest(ctx context.Context, agentID int, component, command string) (string, error) {
	st := s.keys.lookupID(core.FormatAgentID(agentID))
	if st == nil {
		return ReplySendError, nil
	}
	o := s.req.options()
	release, ok := s.req.acquire(ctx, agentID, o)
	if !ok {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		s.warn("remoted: request pool of the agent is full, rejecting a request", "agent", st.idText)
		return ReplyInternalError, nil
	}
	defer release()
	counter, p := s.req.add(st.idText)
	defer s.req.remove(st.idText, counter)
	payload := agentproto.FormatAgentRequest(counter, component, command)

	c, ua, _, _ := st.replyPath()
	udp := c == nil && ua.IsValid()
	attempts := 1
	if udp {
		attempts = o.MaxAttempts
	}
	var answer []byte
	sentOnce := false
	for i := 0; i < attempts && answer == nil; i++ {
		if !s.sendRequest(st, payload) {
			s.warn("remoted: cannot send a request to the agent", "agent", st.idText)
			return ReplySendError, nil
		}
		sentOnce = true
		if !udp {
			break // TCP delivers or fails by itself
		}
		rto := time.NewTimer(o.RTO)
		select {
		case <-p.acked:
			i = attempts // receipt: stop resending
		case answer = <-p.reply:
		case <-rto.C:
		case <-ctx.Done():
			rto.Stop()
			return "", ctx.Err()
		}
		rto.Stop()
		if i == attempts-1 && answer == nil {
			select {
			case <-p.acked:
			default:
				s.warn("remoted: the agent did not take a request", "agent", st.idText)
				return ReplyAttemptsError, nil
			}
		}
	}
	if !sentOnce {
		return ReplySendError, nil
	}
	if answer == nil {
		wait := time.NewTimer(o.ResponseTimeout)
		defer wait.Stop()
		select {
		case answer = <-p.reply:
		case <-wait.C:
			s.warn("remoted: response timeout for a request", "agent", st.idText, "counter", counter)
			return ReplyTimeout, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if udp {
		// The agent resends its answer until it gets this receipt.
		if s.sendTo(st, agentproto.FormatRequestAck(counter), true) == nil {
			s.req.sent.Add(1)
		}
	}
	return string(answer), nil
}

// sendRequest writes a request to an agent heard from within the
// disconnection time, as Wazuh's send_msg requires.
func (s *Server) sendRequest(st *agentState, payload []byte) bool {
	st.mu.Lock()
	silent := time.Duration(s.o.Now().UnixNano() - st.lastRecv)
	st.mu.Unlock()
	if silent > s.o.DisconnectionTime {
		return false
	}
	if err := s.sendTo(st, payload, true); err != nil {
		return false
	}
	s.req.sent.Add(1)
	st.counts.sentRequest.Add(1)
	return true
}

// requestReply hands an agent's "#!-req" message to the request waiting for
// it; one that matches none is dropped and counted.
func (s *Server) requestReply(st *agentState, counter string, body []byte) {
	r, err := agentproto.ParseRequestReply(counter, body)
	if err != nil {
		s.req.unmatched.Add(1)
		s.warn("remoted: malformed request answer from agent", "agent", st.idText, "err", err)
		return
	}
	key := st.idText + " " + r.Counter
	s.req.mu.Lock()
	p := s.req.pending[key]
	if p != nil && !r.Ack {
		delete(s.req.pending, key) // answered: a second copy (a UDP resend) matches nothing
	}
	s.req.mu.Unlock()
	if p == nil {
		s.req.unmatched.Add(1)
		s.log.Debug("remoted: request counter not found, answer dropped", "agent", st.idText, "counter", r.Counter)
		return
	}
	if r.Ack {
		p.ackOne.Do(func() { close(p.acked) })
		return
	}
	p.reply <- append([]byte(nil), r.Data...) // room for exactly this one answer
}
