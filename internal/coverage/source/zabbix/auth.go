package zabbix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/muster-project/muster/internal/connauth"
)

// session is a user.login session shared by every call of one source.
type session struct {
	src   *Source
	cache connauth.TokenCache

	mu      sync.Mutex
	current string // the last session id, for user.logout
}

func newSession(s *Source) *session {
	ss := &session{src: s}
	ss.cache.Login = ss.login
	ss.cache.Now = s.env.Now
	return ss
}

// login runs user.login once. It is never retried: a refusal may be a bad
// password, and five of those lock the account.
func (ss *session) login(ctx context.Context) (connauth.Token, error) {
	s := ss.src
	password, err := s.conn.Password(s.env)
	if err != nil {
		return connauth.Token{}, err
	}
	params := map[string]string{s.features().loginKey: s.user, "password": password}
	var sid string
	_, err = s.rpc.call(ctx, "user.login", params, "", false, &sid)
	var re *rpcError
	if errors.As(err, &re) && re.Code == codeApplication {
		return connauth.Token{}, fmt.Errorf("%w: user %s: %s; check user and the password, and note that Zabbix locks an account for 30 s after 5 failed logins (even the right password is refused then)",
			connauth.ErrLoginRefused, s.user, strings.TrimSuffix(re.Data, "."))
	}
	if err != nil {
		return connauth.Token{}, err
	}
	if sid == "" {
		return connauth.Token{}, errors.New("user.login answered an empty session id")
	}
	ss.mu.Lock()
	ss.current = sid
	ss.mu.Unlock()
	s.log.Debug("zabbix: logged in", "source", s.name, "user", s.user)
	return connauth.Token{Value: sid}, nil
}

// take returns the last session id and forgets it.
func (ss *session) take() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	sid := ss.current
	ss.current = ""
	return sid
}

// call runs an authenticated read. With a session, a refusal of the session
// (ended, expired, logged out) is followed by exactly one new login and one
// more try; an API token is used as it is.
func (s *Source) call(ctx context.Context, method string, params, out any) (answer, error) {
	if s.session == nil {
		a, err := s.rpc.call(ctx, method, params, s.token, true, out)
		var re *rpcError
		if errors.As(err, &re) && re.authRefused() {
			return a, fmt.Errorf("zabbix source %s: %w: the API token was refused (%s); it may be expired, disabled or deleted: generate a new one and update token_file/token_env",
				s.name, connauth.ErrLoginRefused, strings.TrimSuffix(re.Data, "."))
		}
		return a, s.wrap(err)
	}
	a, err := connauth.WithToken(ctx, &s.session.cache, func(ctx context.Context, tok connauth.Token) (answer, bool, error) {
		a, err := s.rpc.call(ctx, method, params, tok.Value, true, out)
		var re *rpcError
		return a, errors.As(err, &re) && re.authRefused(), err
	})
	var re *rpcError
	if errors.As(err, &re) && re.authRefused() {
		return a, fmt.Errorf("zabbix source %s: a fresh session of user %s was refused too: %w; check that the user is enabled and its role allows API access", s.name, s.user, err)
	}
	return a, s.wrap(err)
}

func (s *Source) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("zabbix source %s: %w", s.name, err)
}

// Close ends the source's session, if it has one (user.logout), so that
// --watch runs and repeated commands do not pile up sessions on the server.
func (s *Source) Close() error {
	if s.session == nil {
		return nil
	}
	sid := s.session.take()
	if sid == "" {
		return nil
	}
	s.session.cache.Invalidate(connauth.Token{Value: sid})
	ctx, cancel := context.WithTimeout(context.Background(), s.conn.TimeoutOr())
	defer cancel()
	_, err := s.rpc.call(ctx, "user.logout", []string{}, sid, false, nil)
	var re *rpcError
	if errors.As(err, &re) && re.authRefused() {
		return nil // already ended on the server
	}
	return s.wrap(err)
}
