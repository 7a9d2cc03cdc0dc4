package core

import (
	"context"
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
	return s.issue(user.Username, snap.userRoles[user.ID], false, "")
}

// checkCredentials checks a user name and password on the hashing pool and
// returns the user with the snapshot it was found in. An unknown user costs
// a dummy check, so that timing does not tell which names exist.
func (s *Security) checkCredentials(ctx context.Context, username, password string) (*snapshot, *User, error) {
	snap := s.snap.Load()
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
		return nil, nil, err
	}
	if !valid {
		return nil, nil, ErrInvalidCredentials
	}
	return snap, user, nil
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

// issue signs a token with the current configuration.
func (s *Security) issue(username string, roles []int, runAs bool, ctxHash string) (string, error) {
	cfg := s.Config()
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
	return tok, nil
}

// Authenticate verifies a bearer token and checks it against revocations
// and the current configuration. A token seen before costs a hash and a few
// map lookups; its signature is verified once.
func (s *Security) Authenticate(token string) (*Session, error) {
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
	if !snap.tokenValid(claims) {
		return nil, ErrInvalidToken
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
// roles are still the user's roles, and no blacklist row covers its nbf.
// Unlike Wazuh 4.14.7 the user and run_as blacklists apply to users without
// roles too, and role rows apply to the token's roles as well as the linked
// ones (the 4.14.9 behaviour).
func (snap *snapshot) tokenValid(c auth.Claims) bool {
	u, ok := snap.usersByName[c.Subject]
	if !ok {
		return false
	}
	linked := snap.userRoles[u.ID]
	if !u.AllowRunAs && !sameSet(linked, c.RBACRoles) {
		return false
	}
	d := snap.data
	if r, ok := d.UserRevoked[u.ID]; ok && c.NotBefore <= r.NbfInvalidUntil {
		return false
	}
	if c.RunAs && d.RunAsRevoked != nil && c.NotBefore <= d.RunAsRevoked.NbfInvalidUntil {
		return false
	}
	for _, roles := range [][]int{linked, c.RBACRoles} {
		for _, id := range roles {
			if r, ok := d.RoleRevoked[id]; ok && c.NotBefore <= r.NbfInvalidUntil {
				return false
			}
		}
	}
	return true
}

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
