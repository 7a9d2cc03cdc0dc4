package connlimit

// The descriptor budget. A process may hold Limit descriptors
// (RLIMIT_NOFILE, which Go raises to the hard limit at start). Split keeps
//
//	reserve = max(ReserveMin, Limit/10)
//
// for what is not a client connection (the store's connections, log files,
// listeners, epoll, certificates read at start, outgoing calls), and
// shares the rest, usable = Limit - reserve, as
//
//	remote (agent port, 1514)  80 % of usable
//	API (55000)                12 % of usable
//	enrollment (1515)           8 % of usable
//
// each at least its floor (64, 32 and 16) for very small limits. The three
// caps and the reserve add up to no more than the limit (above the floors),
// so whichever port is flooded, the others keep descriptors to answer with.
// With 20,000 descriptors: reserve 2,000, remote 14,400, API 2,160, authd 1,440.
// With 1,024: reserve 256, remote 614, API 92, authd 61.
const (
	ReserveMin = 256
	remotePct  = 80
	apiPct     = 12
	authPct    = 8

	remoteFloor = 64
	apiFloor    = 32
	authFloor   = 16

	// maxLimit bounds the limit used in the computation (an unlimited
	// RLIMIT_NOFILE is reported as 2^64-1; Linux allows at most 2^20 by
	// default, fs.nr_open).
	maxLimit = 1 << 24
	// fallbackLimit is assumed where the limit cannot be read.
	fallbackLimit = 4096
)

// Shares is how a descriptor limit is split between the servers.
type Shares struct {
	Limit   int // the descriptor limit the split is for
	Reserve int // kept for the store, logs and listeners
	Remote  int // the agent port's total cap
	API     int // the API's total cap
	Auth    int // the enrollment daemon's total cap
}

// Split shares a descriptor limit; see the package's budget comment.
func Split(limit uint64) Shares {
	n := int(min(limit, maxLimit))
	reserve := max(ReserveMin, n/10)
	usable := max(n-reserve, 0)
	return Shares{Limit: n, Reserve: reserve,
		Remote: max(usable*remotePct/100, remoteFloor),
		API:    max(usable*apiPct/100, apiFloor),
		Auth:   max(usable*authPct/100, authFloor)}
}

// ProcessShares splits this process's current descriptor limit (a fixed
// 4,096 where it cannot be read).
func ProcessShares() Shares {
	n, err := FileLimit()
	if err != nil || n == 0 {
		n = fallbackLimit
	}
	return Split(n)
}

// Per-address defaults, for the keys *.max_connections_per_ip.
const (
	// RemotePerAddr caps the agent-port connections of one address that no
	// agent key vouched for yet: connections of registered agents do not
	// count, so any number of agents may sit behind one NAT address.
	RemotePerAddr = 256
	// APIPerAddr caps API connections from one address; a reverse proxy or
	// load balancer in front of the API is one address: raise it there.
	APIPerAddr = 256
	// AuthPerAddr caps enrollment connections in progress from one address;
	// an enrollment takes milliseconds, so even a large deployment behind
	// one NAT address rarely has more in flight.
	AuthPerAddr = 128
)

// PerAddrOf is a per-address default bounded by a quarter of the total cap,
// so that one address cannot fill a port whose cap is small (under a low
// file limit, authd's whole share is smaller than AuthPerAddr).
func PerAddrOf(def, total int) int {
	return min(def, max(1, total/4))
}
