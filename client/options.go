package client

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Defaults used by New when no option overrides them.
const (
	DefaultTimeout       = 60 * time.Second
	DefaultMaxAttempts   = 4
	DefaultBaseDelay     = 500 * time.Millisecond
	DefaultMaxDelay      = 30 * time.Second
	DefaultMaxBodySize   = 256 << 20
	DefaultBlockTime     = 300 * time.Second
	DefaultLoginCooldown = 60 * time.Second
	DefaultUserAgent     = "muster-client/1"
)

// Option configures a Client; pass options to New.
type Option func(*settings) error

// settings collects what the options set before New validates and applies them.
type settings struct {
	user, password string
	hasCreds       bool
	caPool         *x509.CertPool
	caFiles        []string
	certFile       string
	keyFile        string
	insecure       bool
	serverName     string
	timeout        time.Duration
	userAgent      string
	logger         *slog.Logger
	httpClient     *http.Client
	now            func() time.Time
	maxAttempts    int
	baseDelay      time.Duration
	maxDelay       time.Duration
	maxBody        int64
	blockTime      time.Duration
	loginCooldown  time.Duration
}

func defaultSettings() settings {
	return settings{
		timeout:       DefaultTimeout,
		userAgent:     DefaultUserAgent,
		logger:        slog.New(slog.DiscardHandler),
		now:           time.Now,
		maxAttempts:   DefaultMaxAttempts,
		baseDelay:     DefaultBaseDelay,
		maxDelay:      DefaultMaxDelay,
		maxBody:       DefaultMaxBodySize,
		blockTime:     DefaultBlockTime,
		loginCooldown: DefaultLoginCooldown,
	}
}

// tlsConfigured reports whether any option asks for a non-default TLS setup.
func (s *settings) tlsConfigured() bool {
	return s.caPool != nil || len(s.caFiles) > 0 || s.certFile != "" || s.insecure || s.serverName != ""
}

// WithCredentials sets the API user and password used to log in with HTTP Basic authentication.
func WithCredentials(user, password string) Option {
	return func(s *settings) error {
		if user == "" {
			return errors.New("WithCredentials: empty user name")
		}
		s.user, s.password, s.hasCreds = user, password, true
		return nil
	}
}

// WithCAFile trusts the PEM certificates in path (for example the manager's self-signed server.crt) instead of the system roots; it may be repeated.
func WithCAFile(path string) Option {
	return func(s *settings) error {
		s.caFiles = append(s.caFiles, path)
		return nil
	}
}

// WithCAPool trusts the certificates of pool instead of the system roots.
func WithCAPool(pool *x509.CertPool) Option {
	return func(s *settings) error {
		if pool == nil {
			return errors.New("WithCAPool: nil pool")
		}
		s.caPool = pool
		return nil
	}
}

// WithClientCert presents the PEM certificate and key to managers that require client certificates (api.yaml https.use_ca).
func WithClientCert(certFile, keyFile string) Option {
	return func(s *settings) error {
		if certFile == "" || keyFile == "" {
			return errors.New("WithClientCert: both a certificate and a key file are needed")
		}
		s.certFile, s.keyFile = certFile, keyFile
		return nil
	}
}

// WithServerName verifies the manager's certificate against name instead of the host of the base URL.
func WithServerName(name string) Option {
	return func(s *settings) error {
		s.serverName = name
		return nil
	}
}

// WithInsecure disables certificate verification; New logs a warning because anyone on the path can then read the credentials.
func WithInsecure() Option {
	return func(s *settings) error {
		s.insecure = true
		return nil
	}
}

// WithTimeout bounds each HTTP attempt (connection, request and reading the body); the default is DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d <= 0 {
			return fmt.Errorf("WithTimeout: %v is not a positive duration", d)
		}
		s.timeout = d
		return nil
	}
}

// WithUserAgent sets the User-Agent header, which appears in the manager's api.log.
func WithUserAgent(ua string) Option {
	return func(s *settings) error {
		s.userAgent = ua
		return nil
	}
}

// WithLogger sends the client's diagnostics (logins, retries, warnings) to l.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		s.logger = l
		return nil
	}
}

// WithHTTPClient uses hc for every request; TLS options are applied to a clone of its transport when it is an *http.Transport.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		s.httpClient = hc
		return nil
	}
}

// WithClock replaces time.Now for token expiry, Retry-After dates and login blocks (for tests).
func WithClock(now func() time.Time) Option {
	return func(s *settings) error {
		if now == nil {
			return errors.New("WithClock: nil clock")
		}
		s.now = now
		return nil
	}
}

// WithRetry sets how many attempts a request gets (1 disables retries) and the bounds of the exponential backoff.
func WithRetry(maxAttempts int, baseDelay, maxDelay time.Duration) Option {
	return func(s *settings) error {
		if maxAttempts < 1 {
			return fmt.Errorf("WithRetry: maxAttempts %d is below 1", maxAttempts)
		}
		if baseDelay < 0 || maxDelay < baseDelay {
			return fmt.Errorf("WithRetry: need 0 <= baseDelay (%v) <= maxDelay (%v)", baseDelay, maxDelay)
		}
		s.maxAttempts, s.baseDelay, s.maxDelay = maxAttempts, baseDelay, maxDelay
		return nil
	}
}

// WithMaxBodySize caps how many bytes of a response body are read; larger bodies fail with ErrResponseTooLarge.
func WithMaxBodySize(n int64) Option {
	return func(s *settings) error {
		if n <= 0 {
			return fmt.Errorf("WithMaxBodySize: %d is not positive", n)
		}
		s.maxBody = n
		return nil
	}
}

// WithBlockTime is the manager's access.block_time as the client assumes it: after a 403 with error 6000 no login is attempted for this long.
func WithBlockTime(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("WithBlockTime: negative duration %v", d)
		}
		s.blockTime = d
		return nil
	}
}

// WithLoginCooldown sets how long the client refuses to repeat a login whose credentials the manager rejected (each retry would count towards the IP block).
func WithLoginCooldown(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("WithLoginCooldown: negative duration %v", d)
		}
		s.loginCooldown = d
		return nil
	}
}
