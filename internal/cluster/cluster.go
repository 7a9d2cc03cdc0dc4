// Package cluster makes several muster nodes on one shared store one Wazuh
// cluster: each node registers itself in the store and heartbeats, one
// node holds the master lease (a row of the store renewed with the
// heartbeat), and nodes call each other's API with requests signed by a
// key kept in the store, for the /cluster endpoints that need another
// node's own data.
//
// The lease is a row rather than a PostgreSQL advisory lock so that it
// works on every store, survives a connection pool recycling connections,
// and expires on its own when its holder is killed: the next node whose
// heartbeat finds it expired takes it.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Defaults of the heartbeat and the lease.
const (
	DefaultInterval = time.Second     // how often a node heartbeats and renews or claims the lease
	DefaultTTL      = 5 * time.Second // a heartbeat older than this drops the node; the lease lasts as long
)

// ErrNameTaken is returned by Store.Heartbeat when another live instance
// holds the node name.
var ErrNameTaken = errors.New("cluster: the node name is held by another running node")

// Record is a node's row in the registry.
type Record struct {
	Name       string    // manager.node_name
	Instance   string    // random per process start: tells a restarted node from a second one with its name
	Address    string    // the node's API base URL as other nodes reach it (https://10.0.0.2:55000)
	CertSHA256 string    // hex SHA-256 of the API's TLS leaf certificate, pinned by peers; "" for plain HTTP
	Version    string    // Wazuh version, "4.14.7"
	Started    time.Time // when the node started
	Heartbeat  time.Time // its last heartbeat
}

// Lease is the master lease row.
type Lease struct {
	Holder   string // node name; "" when never taken
	Instance string
	Until    time.Time
}

// Store is what the registry needs from the database.
type Store interface {
	// Heartbeat inserts or refreshes r; a row of the same name written by
	// another instance whose heartbeat is not older than stale is
	// ErrNameTaken.
	Heartbeat(ctx context.Context, r Record, stale time.Time) error
	// Nodes lists the rows whose heartbeat is not older than since, by name.
	Nodes(ctx context.Context, since time.Time) ([]Record, error)
	// RemoveNode deletes the row of name written by instance.
	RemoveNode(ctx context.Context, name, instance string) error
	// ClaimLease gives the lease to (holder, instance) until until, when
	// that instance holds it already or it ended before now; it returns
	// the lease as it is afterwards.
	ClaimLease(ctx context.Context, holder, instance string, now, until time.Time) (Lease, error)
	// ReleaseLease ends the lease when instance holds it.
	ReleaseLease(ctx context.Context, instance string) error
	// ClusterKey returns the cluster's shared secret, creating it with
	// fresh when there is none yet.
	ClusterKey(ctx context.Context, fresh string) (string, error)
}

// Options configure a Node.
type Options struct {
	Store      Store
	Name       string
	Address    string
	CertSHA256 string
	Version    string
	Started    time.Time
	Now        func() time.Time
	Log        *slog.Logger
	Interval   time.Duration // DefaultInterval when 0
	TTL        time.Duration // DefaultTTL when 0
	// Key, when set, is the cluster key from the configuration; otherwise
	// the store's is used (created by the first node).
	Key string
	// OnMaster, when set, is told each time the node gains or loses the
	// master lease.
	OnMaster func(master bool)
}

// Member is a live node as the cluster API lists it.
type Member struct {
	Record
	Master bool
}

// Type is Wazuh's node type: master or worker.
func (m Member) Type() string {
	if m.Master {
		return "master"
	}
	return "worker"
}

// Node is this process's membership of the cluster.
type Node struct {
	o        Options
	instance string

	mu          sync.Mutex
	key         []byte
	joined      bool      // the last heartbeat was written
	masterUntil time.Time // this node is master until then (zero: not master)
	lease       Lease     // the lease as last read
	announced   bool      // OnMaster was last told true
	lastErr     error
	clients     map[string]*http.Client // by certificate pin
}

// New returns a node; Run (or Tick, in tests) registers it.
func New(o Options) *Node {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Started.IsZero() {
		o.Started = o.Now()
	}
	n := &Node{o: o, instance: randomHex(16)}
	if o.Key != "" {
		n.key = []byte(o.Key)
	}
	return n
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Name is the node's name.
func (n *Node) Name() string { return n.o.Name }

// TTL is how old a heartbeat may be before its node is dropped.
func (n *Node) TTL() time.Duration { return n.o.TTL }

// Run heartbeats every Interval until ctx ends, then removes the node from
// the registry and releases the lease it holds, so that another node takes
// over at once on a clean stop.
func (n *Node) Run(ctx context.Context) {
	t := time.NewTicker(n.o.Interval)
	defer t.Stop()
	for {
		n.Tick(ctx)
		select {
		case <-ctx.Done():
			n.Leave()
			return
		case <-t.C:
		}
	}
}

// Leave removes the node's row and releases its lease.
func (n *Node) Leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n.o.Store.RemoveNode(ctx, n.o.Name, n.instance)
	n.o.Store.ReleaseLease(ctx, n.instance)
	n.setMaster(time.Time{}, Lease{}, false)
}

// Tick is one round: the heartbeat, then the lease claimed or renewed.
// A failed round keeps the lease only until it ends, so a node cut from
// the store stops acting as master before another one can take over.
func (n *Node) Tick(ctx context.Context) error {
	now := n.o.Now()
	if err := n.ensureKey(ctx); err != nil {
		return n.fail(err, now)
	}
	r := Record{Name: n.o.Name, Instance: n.instance, Address: n.o.Address, CertSHA256: n.o.CertSHA256,
		Version: n.o.Version, Started: n.o.Started, Heartbeat: now}
	if err := n.o.Store.Heartbeat(ctx, r, now.Add(-n.o.TTL)); err != nil {
		if errors.Is(err, ErrNameTaken) {
			n.mu.Lock()
			first := !errors.Is(n.lastErr, ErrNameTaken)
			n.mu.Unlock()
			if first {
				n.o.Log.Error("cluster: another running node has this node_name; this node joins once that node's heartbeat is "+
					n.o.TTL.String()+" old",
					"node_name", n.o.Name)
			}
		}
		return n.fail(err, now)
	}
	until := now.Add(n.o.TTL)
	l, err := n.o.Store.ClaimLease(ctx, n.o.Name, n.instance, now, until)
	if err != nil {
		return n.fail(err, now)
	}
	var masterUntil time.Time
	if l.Instance == n.instance {
		masterUntil = l.Until
	}
	n.setMaster(masterUntil, l, true)
	return nil
}

func (n *Node) fail(err error, now time.Time) error {
	n.mu.Lock()
	prev := n.lastErr
	n.lastErr = err
	wasMaster := n.masterUntil.After(now)
	n.mu.Unlock()
	if prev == nil && !errors.Is(err, ErrNameTaken) {
		n.o.Log.Warn("cluster: heartbeat failed", "err", err)
	}
	if !wasMaster {
		n.setMaster(time.Time{}, Lease{}, false)
	}
	return err
}

func (n *Node) setMaster(until time.Time, l Lease, joined bool) {
	n.mu.Lock()
	was := n.announced
	n.masterUntil, n.lease, n.joined = until, l, joined
	if joined {
		n.lastErr = nil
	}
	is := n.masterUntil.After(n.o.Now())
	n.announced = is
	n.mu.Unlock()
	if was != is {
		if is {
			n.o.Log.Info("cluster: this node is the master", "node_name", n.o.Name)
		} else {
			n.o.Log.Info("cluster: this node is no longer the master", "node_name", n.o.Name)
		}
		if n.o.OnMaster != nil {
			n.o.OnMaster(is)
		}
	}
}

// IsMaster reports whether this node holds the master lease now. It turns
// false by itself when the lease ends without a renewal.
func (n *Node) IsMaster() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.masterUntil.After(n.o.Now())
}

// Joined reports whether the node's last heartbeat was written.
func (n *Node) Joined() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.joined
}

// Members lists the live nodes, by name, the master marked. A node whose
// lease ran out without a successor yet leaves the cluster masterless for
// at most a heartbeat interval.
func (n *Node) Members(ctx context.Context) ([]Member, error) {
	now := n.o.Now()
	recs, err := n.o.Store.Nodes(ctx, now.Add(-n.o.TTL))
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	l := n.lease
	n.mu.Unlock()
	out := make([]Member, 0, len(recs))
	for _, r := range recs {
		out = append(out, Member{Record: r, Master: l.Until.After(now) && r.Instance == l.Instance})
	}
	return out, nil
}

// Member returns the live node named name; false when there is none.
func (n *Node) Member(ctx context.Context, name string) (Member, bool, error) {
	ms, err := n.Members(ctx)
	if err != nil {
		return Member{}, false, err
	}
	for _, m := range ms {
		if m.Name == name {
			return m, true, nil
		}
	}
	return Member{}, false, nil
}

func (n *Node) ensureKey(ctx context.Context) error {
	n.mu.Lock()
	have := n.key != nil
	n.mu.Unlock()
	if have {
		return nil
	}
	k, err := n.o.Store.ClusterKey(ctx, randomHex(32))
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.key = []byte(k)
	n.mu.Unlock()
	return nil
}

func (n *Node) signingKey() []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.key
}
