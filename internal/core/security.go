package core

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/auth"
)

// Token claim constants Wazuh puts in every token.
const (
	TokenIssuer   = "wazuh"
	TokenAudience = "Wazuh API REST"
)

// The 401 answers of Wazuh's token check.
var (
	ErrNoToken            = Unauthorized("No authorization token provided")
	ErrBadAuthHeader      = Unauthorized("Invalid authorization header")
	ErrInvalidToken       = Unauthorized("Invalid token")
	ErrTokenExpired       = Unauthorized("Token expired")
	ErrInvalidCredentials = Unauthorized("Invalid credentials")
)

// Unauthorized is a 401 answer with Wazuh's body.
func Unauthorized(detail string) *Error {
	return &Error{Status: 401, Detail: detail, Local: true}
}

// SecurityOptions configures a Security service.
type SecurityOptions struct {
	Store          SecurityStore
	Now            func() time.Time
	Log            *slog.Logger
	LoginPoolSize  int // concurrent password checks; default: 2
	TokenCacheSize int // verified tokens kept; default: 10000
	// MaxStaleness bounds how long a watching node serves without having
	// confirmed its security state with the store; default:
	// DefaultMaxStaleness. See Watch. api.New sets it again from
	// database.max_security_staleness (SetMaxStaleness).
	MaxStaleness time.Duration
	// StaleNow is the clock the staleness bound is measured with; default:
	// time.Now. It is apart from Now (token times) so that tests moving
	// token time by hours do not make a watching node stale.
	StaleNow func() time.Time
}

// Security is the security layer: logins, tokens, revocation and the
// security configuration, over a SecurityStore.
type Security struct {
	store SecurityStore
	now   func() time.Time
	log   *slog.Logger
	pool  *auth.Pool
	// busyPool bounds hashing to half the pool while token-authenticated
	// requests are flowing, so a login flood cannot take every core from
	// them; alone, logins use the whole pool.
	busyPool  *auth.Pool
	lastAPI   atomic.Int64 // monotonic nanoseconds of the last token check
	cacheSize int

	writeMu sync.Mutex // one writer at a time keeps snapshots in order
	snap    atomic.Pointer[snapshot]
	keys    atomic.Pointer[keyState]
	perms   permCache
	gen     atomic.Uint64

	fresh freshness // fail-closed bookkeeping of Watch (security_watch.go)
}

// keyState is the signing key and the tokens verified with it: rotating the
// key drops the whole cache with it.
type keyState struct {
	pem    string
	priv   *ecdsa.PrivateKey
	tokens *auth.TokenCache
}

// NewSecurity returns a Security; call Start before use.
func NewSecurity(o SecurityOptions) *Security {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.LoginPoolSize <= 0 {
		o.LoginPoolSize = 2
	}
	if o.TokenCacheSize <= 0 {
		o.TokenCacheSize = 10000
	}
	if o.StaleNow == nil {
		o.StaleNow = time.Now
	}
	s := &Security{store: o.Store, now: o.Now, log: o.Log, pool: auth.NewPool(o.LoginPoolSize),
		busyPool:  auth.NewPool(max(1, o.LoginPoolSize/2)),
		cacheSize: o.TokenCacheSize}
	s.fresh.now = o.StaleNow
	s.SetMaxStaleness(o.MaxStaleness)
	return s
}

// InitialPasswords set the default users' passwords when the store is new;
// empty ones keep Wazuh's defaults (the user name).
type InitialPasswords struct {
	Admin string // user "wazuh"
	WUI   string // user "wazuh-wui"
}

// Start seeds a new store with Wazuh's default users, roles, policies and
// rules, makes the signing key on first start, and loads everything.
func (s *Security) Start(ctx context.Context, pw InitialPasswords) error {
	d, err := s.store.LoadSecurity(ctx)
	if err != nil {
		return err
	}
	fresh := len(d.Users) == 0 && len(d.Roles) == 0 && len(d.Policies) == 0
	if fresh || d.SigningKey == "" {
		err := s.update(ctx, func(tx SecurityTx) error {
			if fresh {
				if err := s.seed(tx, pw); err != nil {
					return fmt.Errorf("seed default security objects: %w", err)
				}
			}
			return s.rotateKey(tx)
		})
		if err != nil {
			return err
		}
	}
	return s.reload(ctx)
}

func (s *Security) seed(tx SecurityTx, pw InitialPasswords) error {
	now := s.stamp()
	{
		for _, u := range DefaultUsers {
			p := u.Username
			if u.ID == 1 && pw.Admin != "" {
				p = pw.Admin
			}
			if u.ID == 2 && pw.WUI != "" {
				p = pw.WUI
			}
			h, err := auth.HashPassword(p)
			if err != nil {
				return err
			}
			u.Password, u.CreatedAt = h, now
			if _, err := tx.InsertUser(u); err != nil {
				return err
			}
		}
		for _, r := range DefaultRoles {
			r.CreatedAt = now
			if _, err := tx.InsertRole(r); err != nil {
				return err
			}
		}
		for _, p := range DefaultPolicies {
			p.CreatedAt = now
			if _, err := tx.InsertPolicy(p); err != nil {
				return err
			}
		}
		for _, r := range DefaultRules {
			r.CreatedAt = now
			if _, err := tx.InsertRule(r); err != nil {
				return err
			}
		}
		links := map[string][]Link{UserRolesTable: DefaultUserRoles,
			RolePoliciesTable: DefaultRolePolicies, RoleRulesTable: DefaultRoleRules}
		for _, table := range []string{UserRolesTable, RolePoliciesTable, RoleRulesTable} {
			for _, l := range links[table] {
				l.CreatedAt = now
				if err := tx.InsertLink(table, l); err != nil {
					return err
				}
			}
		}
		return tx.SetConfig(DefaultSecurityConfig())
	}
}

// stamp is a creation time in the format Wazuh's rbac.db uses.
func (s *Security) stamp() string {
	return s.now().UTC().Format("2006-01-02 15:04:05.000000")
}

// update runs fn in a store transaction and reloads the snapshot after it.
func (s *Security) update(ctx context.Context, fn func(SecurityTx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.store.UpdateSecurity(ctx, fn); err != nil {
		return err
	}
	return s.reloadLocked(ctx)
}

func (s *Security) reload(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.reloadLocked(ctx)
}

func (s *Security) reloadLocked(ctx context.Context) error {
	t0 := s.fresh.now() // the state read below is at least this recent
	d, err := s.store.LoadSecurity(ctx)
	if err != nil {
		return err
	}
	if ks := s.keys.Load(); ks == nil || ks.pem != d.SigningKey {
		priv, err := decodeKey(d.SigningKey)
		if err != nil {
			return E(6003).wrap(err)
		}
		s.keys.Store(&keyState{pem: d.SigningKey, priv: priv, tokens: auth.NewTokenCache(s.cacheSize)})
	}
	s.snap.Store(newSnapshot(d))
	s.perms.reset()
	s.gen.Add(1)
	s.fresh.confirm(t0)
	return nil
}

// Generation changes whenever the security layer is reloaded, so callers
// may cache what they derive from it.
func (s *Security) Generation() uint64 { return s.gen.Load() }

func (e *Error) wrap(err error) *Error { e.Err = err; return e }

// rotateKey makes a new signing key and empties the blacklists: every token
// issued so far stops verifying.
func (s *Security) rotateKey(tx SecurityTx) error {
	kp, err := auth.GenerateKeyPair()
	if err != nil {
		return err
	}
	p, err := encodeKey(kp.Private)
	if err != nil {
		return err
	}
	if err := tx.SetSigningKey(p); err != nil {
		return err
	}
	return tx.ClearRevocations()
}

// Config returns the security configuration.
func (s *Security) Config() SecurityConfig { return s.snap.Load().data.Config }

// DefaultPasswordsInUse names the default users whose password is still
// their user name.
func (s *Security) DefaultPasswordsInUse() []string {
	var out []string
	snap := s.snap.Load()
	for _, d := range DefaultUsers {
		if u, ok := snap.usersByID[d.ID]; ok && u.Username == d.Username && auth.CheckPassword(u.Password, d.Username) {
			out = append(out, d.Username)
		}
	}
	return out
}

// revocation is a blacklist row made now.
func (s *Security) revocation() Revocation {
	now := s.now().Unix()
	return Revocation{NbfInvalidUntil: now, IsValidUntil: now + int64(s.Config().AuthTokenExpTimeout)}
}

// RevokeAll invalidates every token of every user (PUT /security/user/revoke).
func (s *Security) RevokeAll(ctx context.Context) error {
	return s.update(ctx, s.rotateKey)
}

// Logout invalidates every token of the session's user issued so far.
func (s *Security) Logout(ctx context.Context, sess *Session) error {
	rev := s.revocation()
	return s.update(ctx, func(tx SecurityTx) error {
		if err := tx.PurgeRevocations(rev.NbfInvalidUntil); err != nil {
			return err
		}
		return tx.RevokeUser(sess.UserID, rev)
	})
}

// UpdateConfig merges the given fields into the security configuration and
// revokes every token, as Wazuh does on any change.
func (s *Security) UpdateConfig(ctx context.Context, timeout *int, mode *string) error {
	c := s.Config()
	if timeout != nil {
		c.AuthTokenExpTimeout = *timeout
	}
	if mode != nil {
		c.RBACMode = *mode
	}
	return s.update(ctx, func(tx SecurityTx) error {
		if err := tx.SetConfig(c); err != nil {
			return err
		}
		return s.rotateKey(tx)
	})
}

// ResetConfig restores the default security configuration and revokes every token.
func (s *Security) ResetConfig(ctx context.Context) error {
	d := DefaultSecurityConfig()
	return s.UpdateConfig(ctx, &d.AuthTokenExpTimeout, &d.RBACMode)
}
