package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/muster-project/muster/internal/auth"
	"github.com/muster-project/muster/internal/rbac"
)

// Session is what a verified token grants a request.
type Session struct {
	Username string
	UserID   int
	Claims   auth.Claims
	Perms    *rbac.Permissions
}

// Login checks a user name and password and issues a token carrying the
// user's roles in position order. Unknown users cost the same as known ones.
// Password work runs on a bounded pool so a login flood cannot starve other
// requests.
func (s *Security) Login(ctx context.Context, username, password string) (string, error) {
	snap, user, err := s.checkCredentials(ctx, username, password)
	if err != nil {
		return "", err
	}
	return s.issue(ctx, snap, user.Username, snap.userRoles[user.ID], false, "")
}

// checkCredentials checks a user name and password on the hashing pool and
// returns the user with the snapshot it was found in. An unknown user costs
// a dummy check, so that timing does not tell which names exist.
//
// While a Watch runs (several nodes on one store) the answer is confirmed
// with the store before it is given: a node cut off from it, or not yet
// caught up, must not accept a password changed elsewhere, nor issue a
// token that a revocation made elsewhere should have covered. When the
// store moved on, the check runs again on the fresh state.
func (s *Security) checkCredentials(ctx context.Context, username, password string) (*snapshot, *User, error) {
	if s.fresh.stale() {
		return nil, nil, Unconfirmed()
	}
	snap := s.snap.Load()
	user, err := s.checkOn(ctx, snap, username, password)
	if !s.fresh.watching() || (err != nil && err != ErrInvalidCredentials) {
		return snap, user, err
	}
	cctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	cur, cerr := s.current(cctx, snap)
	cancel()
	if cerr != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		s.log.Warn("login refused: the security state could not be confirmed with the store", "err", cerr)
		return nil, nil, Unconfirmed()
	}
	if cur != snap {
		snap = cur
		user, err = s.checkOn(ctx, snap, username, password)
	}
	if err != nil {
		return nil, nil, err
	}
	return snap, user, nil
}

// checkOn checks the credentials against one snapshot.
func (s *Security) checkOn(ctx context.Context, snap *snapshot, username, password string) (*User, error) {
	user, known := snap.usersByName[username]
	valid := false // set only by a password check that ran
	err := s.hash(ctx, func() {
		if !known {
			auth.DummyCheck(password)
			return
		}
		valid = auth.CheckPassword(user.Password, password)
	})
	if err != nil {
		return nil, err
	}
	if !valid {
		return nil, ErrInvalidCredentials
	}
	return user, nil
}

// apiBusyWindow is how recently a token must have been checked for logins
// to yield half the hashing pool to token-authenticated requests.
const apiBusyWindow = 200 * time.Millisecond

// hash runs password work on the bounded pool; while token-authenticated
// requests are flowing it also takes a slot of the smaller busy pool.
func (s *Security) hash(ctx context.Context, fn func()) error {
	if time.Duration(monotonic()-s.lastAPI.Load()) < apiBusyWindow {
		var inner error
		if err := s.busyPool.Do(ctx, func() { inner = s.pool.Do(ctx, fn) }); err != nil {
			return err
		}
		return inner
	}
	return s.pool.Do(ctx, fn)
}

var start = time.Now()

// monotonic is a cheap monotonic clock reading for the scheduling heuristic
// above (the injected clock is for semantics, not for scheduling).
func monotonic() int64 { return int64(time.Since(start)) }

// issue signs a token with the configuration of snap, the snapshot the
// credentials were checked against. JWT times are whole seconds, so a token
// issued in the same second as a blacklist row of snap that would cover it
// is recorded in the store with snap's version: every node then tells it
// from the tokens issued before that change (see tokenValid). Only such
// tokens cost a store write; if the write fails the token is still returned
// and is refused as Wazuh would refuse it.
func (s *Security) issue(ctx context.Context, snap *snapshot, username string, roles []int, runAs bool, ctxHash string) (string, error) {
	cfg := snap.data.Config
	now := s.now().Unix()
	if roles == nil {
		roles = []int{}
	}
	c := auth.Claims{Issuer: TokenIssuer, Audience: TokenAudience, NotBefore: now,
		Expires: now + int64(cfg.AuthTokenExpTimeout), Subject: username, RunAs: runAs,
		RBACRoles: roles, RBACMode: cfg.RBACMode, HashAuthContext: ctxHash}
	tok, err := auth.Sign(s.keys.Load().priv, c)
	if err != nil {
		return "", Internal(err)
	}
	if snap.covered(c, -1) {
		seq, digest := snap.data.Version, tokenDigest(tok)
		err := s.update(ctx, func(tx SecurityTx) error { return tx.RecordIssue(digest, seq, c.Expires) })
		if err != nil {
			s.log.Warn("token issued in the second of a revocation not recorded: it is refused until the next second's tokens",
				"user", username, "err", err)
		}
	}
	return tok, nil
}

// tokenDigest names a token in the store's issue records.
func tokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate verifies a bearer token and checks it against revocations
// and the current configuration. A token seen before costs a hash and a few
// map lookups; its signature is verified once.
//
// While a Watch runs and the state has not been confirmed with the store
// within the staleness bound, every token is refused with Unconfirmed.
func (s *Security) Authenticate(token string) (*Session, error) {
	if s.fresh.stale() {
		return nil, Unconfirmed()
	}
	if now := monotonic(); now-s.lastAPI.Load() > int64(time.Millisecond) {
		s.lastAPI.Store(now) // at most one write per millisecond: no shared-line contention
	}
	ks := s.keys.Load()
	now := s.now()
	claims, ok := ks.tokens.Get(token, now)
	if !ok {
		var err error
		claims, err = auth.Verify(&ks.priv.PublicKey, token, now)
		if err != nil {
			return nil, ErrInvalidToken
		}
		ks.tokens.Put(token, claims)
	}
	snap := s.snap.Load()
	if !snap.tokenValid(claims, token) {
		if snap = s.catchUp(snap, claims, token); snap == nil {
			return nil, ErrInvalidToken
		}
	}
	cfg := snap.data.Config
	if claims.RBACMode != cfg.RBACMode || claims.Expires-claims.NotBefore != int64(cfg.AuthTokenExpTimeout) {
		return nil, ErrTokenExpired
	}
	perms, err := s.perms.get(snap, claims.RBACRoles, claims.RBACMode)
	if err != nil {
		return nil, err
	}
	user := snap.usersByName[claims.Subject]
	return &Session{Username: user.Username, UserID: user.ID, Claims: claims, Perms: perms}, nil
}

// tokenValid applies Wazuh's token check: the user exists, a normal token's
// roles are still the user's roles, and no blacklist row covers it (see
// covered). Unlike Wazuh 4.14.7 the user and run_as blacklists apply to
// users without roles too, and role rows apply to the token's roles as well
// as the linked ones (the 4.14.9 behaviour).
func (snap *snapshot) tokenValid(c auth.Claims, token string) bool {
	u, ok := snap.usersByName[c.Subject]
	if !ok {
		return false
	}
	if !u.AllowRunAs && !sameSet(snap.userRoles[u.ID], c.RBACRoles) {
		return false
	}
	seq, issued := int64(-1), false
	if len(snap.data.IssuedTokens) > 0 {
		seq, issued = snap.data.IssuedTokens[tokenDigest(token)]
		if !issued {
			seq = -1
		}
	}
	return !snap.covered(c, seq)
}

// covered tells whether a blacklist row applies to a token with claims c
// issued from security version seq (-1: not recorded). As in Wazuh a row
// covers the tokens whose nbf is at or before its second; unlike Wazuh
// (a deliberate improvement) a token recorded as issued from a snapshot that
// already held the row is not covered, so a login right after a change, in
// the same second, works.
func (snap *snapshot) covered(c auth.Claims, seq int64) bool {
	u, ok := snap.usersByName[c.Subject]
	if !ok {
		return true
	}
	hit := func(r Revocation) bool { return c.NotBefore <= r.NbfInvalidUntil && seq < r.Seq }
	d := snap.data
	if r, ok := d.UserRevoked[u.ID]; ok && hit(r) {
		return true
	}
	if c.RunAs && d.RunAsRevoked != nil && hit(*d.RunAsRevoked) {
		return true
	}
	for _, roles := range [][]int{snap.userRoles[u.ID], c.RBACRoles} {
		for _, id := range roles {
			if r, ok := d.RoleRevoked[id]; ok && hit(r) {
				return true
			}
		}
	}
	return false
}

// catchUpTimeout bounds the store round trip of catchUp.
const catchUpTimeout = 2 * time.Second

// catchUp handles a token refused by a blacklist row of its own second:
// another node may have issued it after the change and recorded it since
// this node last reloaded. When the store has moved on it reloads once and
// checks again; it returns the snapshot that accepts the token, or nil. A
// refused token is looked up in the store at most once per snapshot.
func (s *Security) catchUp(snap *snapshot, c auth.Claims, token string) *snapshot {
	if !snap.sameSecondRow(c) || !snap.firstMiss(token) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
	defer cancel()
	v, err := s.store.SecurityVersion(ctx)
	if err != nil || v == snap.data.Version {
		return nil
	}
	if err := s.reload(ctx); err != nil {
		s.log.Warn("security reload for a token of a revocation's second failed", "err", err)
		return nil
	}
	if cur := s.snap.Load(); cur.tokenValid(c, token) {
		return cur
	}
	return nil
}

// sameSecondRow tells whether a row that refuses c was made in c's own
// second, give or take maxClockSkew between nodes: only a token issued after
// the row can have an issue record, and its nbf is then the row's second.
// Older tokens are refused without a store round trip.
func (snap *snapshot) sameSecondRow(c auth.Claims) bool {
	u, ok := snap.usersByName[c.Subject]
	if !ok {
		return false
	}
	same := func(r Revocation) bool {
		return c.NotBefore >= r.NbfInvalidUntil-maxClockSkew && c.NotBefore <= r.NbfInvalidUntil
	}
	d := snap.data
	if r, ok := d.UserRevoked[u.ID]; ok && same(r) {
		return true
	}
	if c.RunAs && d.RunAsRevoked != nil && same(*d.RunAsRevoked) {
		return true
	}
	for _, roles := range [][]int{snap.userRoles[u.ID], c.RBACRoles} {
		for _, id := range roles {
			if r, ok := d.RoleRevoked[id]; ok && same(r) {
				return true
			}
		}
	}
	return false
}

// firstMiss reports whether token has not been looked up for this snapshot
// yet, and marks it. The set is bounded: past maxMisses it stops looking up.
func (snap *snapshot) firstMiss(token string) bool {
	snap.missMu.Lock()
	defer snap.missMu.Unlock()
	if snap.misses == nil {
		snap.misses = map[string]bool{}
	}
	if snap.misses[token] || len(snap.misses) >= maxMisses {
		return false
	}
	snap.misses[token] = true
	return true
}

// maxClockSkew is how many seconds apart the clocks of nodes sharing a
// store may be for catchUp to still look a token up.
const maxClockSkew = 2

// maxMisses bounds the store look-ups for refused tokens per snapshot.
const maxMisses = 1024

func sameSet(a, b []int) bool {
	if slices.Equal(a, b) {
		return true
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// permCache keeps compiled permissions per role list and mode for one
// snapshot: every token with the same roles shares them.
type permCache struct {
	mu   sync.RWMutex
	snap *snapshot
	m    map[string]*rbac.Permissions
}

func (p *permCache) reset() {
	p.mu.Lock()
	p.snap, p.m = nil, nil
	p.mu.Unlock()
}

func (p *permCache) get(snap *snapshot, roles []int, mode string) (*rbac.Permissions, error) {
	var kb strings.Builder
	kb.WriteString(mode)
	for _, r := range roles {
		kb.WriteByte(',')
		kb.WriteString(strconv.Itoa(r))
	}
	key := kb.String()
	p.mu.RLock()
	if p.snap == snap {
		if perms, ok := p.m[key]; ok {
			p.mu.RUnlock()
			return perms, nil
		}
	}
	p.mu.RUnlock()
	perms, err := compile(snap, roles, mode)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.snap != snap {
		p.snap, p.m = snap, map[string]*rbac.Permissions{}
	}
	p.m[key] = perms
	p.mu.Unlock()
	return perms, nil
}

// policyBody is the stored JSON of a policy.
type policyBody struct {
	Actions   []string `json:"actions"`
	Resources []string `json:"resources"`
	Effect    string   `json:"effect"`
}

// compile turns the token's roles into the RBAC engine's permissions.
func compile(snap *snapshot, roleIDs []int, mode string) (*rbac.Permissions, error) {
	roles := make([]rbac.Role, 0, len(roleIDs))
	for _, id := range roleIDs {
		r, ok := snap.rolesByID[id]
		if !ok {
			continue
		}
		role := rbac.Role{ID: r.ID, Name: r.Name}
		for _, pid := range snap.rolePolicies[id] {
			p := snap.policiesByID[pid]
			var b policyBody
			if err := json.Unmarshal(p.Body, &b); err != nil {
				return nil, E(4500)
			}
			role.Policies = append(role.Policies, rbac.Policy{ID: p.ID, Name: p.Name,
				Actions: b.Actions, Resources: b.Resources, Effect: b.Effect})
		}
		roles = append(roles, role)
	}
	perms, err := rbac.Compile(roles, rbac.Mode(mode))
	if err != nil {
		return nil, resourceError(err)
	}
	return perms, nil
}
