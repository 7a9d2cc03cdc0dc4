package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/muster-project/muster/internal/core"
)

// login is POST /security/user/authenticate.
func login(c *call) error {
	return c.login(false)
}

// deprecatedLogin is GET /security/user/authenticate, kept for old clients.
func deprecatedLogin(c *call) error {
	c.w.Header().Set("Deprecated", "true")
	c.w.Header().Set("Link", `<https://documentation.wazuh.com/`+Version+
		`/user-manual/api/reference.html#operation/api.controllers.security_controller.login_user>; rel="Deprecated"`)
	return c.login(false)
}

// gate refuses logins from a blocked address.
func (c *call) gate() (string, error) {
	ip := clientIP(c.r)
	if blocked, _ := c.s.blocker.Blocked(ip, c.s.now()); blocked {
		c.s.log.Warn("IP blocked due to exceeded number of logins attempts: " + ip)
		e := core.E(6000)
		e.Local = true
		return ip, e
	}
	return ip, nil
}

// credentials checks Basic auth; every failure is the same 401 and counts
// towards the address's block.
func (c *call) credentials(ip string) (string, string, error) {
	user, pass, ok := basicCredentials(c.r.Header.Get("Authorization"))
	if rec := recorderFrom(c.r); rec != nil && ok {
		rec.user = user
	}
	if !ok {
		c.s.blocker.Failed(ip, c.s.now())
		return "", "", core.ErrInvalidCredentials
	}
	return user, pass, nil
}

func (c *call) login(runAs bool) error {
	ip, err := c.gate()
	if err != nil {
		return err
	}
	user, pass, err := c.credentials(ip)
	if err != nil {
		return err
	}
	token, err := c.s.sec.Login(c.r.Context(), user, pass)
	if err == core.ErrInvalidCredentials {
		c.s.blocker.Failed(ip, c.s.now())
		return err
	}
	if err != nil {
		return err
	}
	if err := validateQuery(c.q, []param{pBool("raw")}); err != nil {
		return err
	}
	return writeToken(c, token)
}

func writeToken(c *call, token string) error {
	if boolParam(c.q, "raw") {
		c.w.Header().Set("Content-Type", "text/plain")
		c.w.Header().Set("Content-Length", strconv.Itoa(len(token)))
		c.w.WriteHeader(http.StatusOK)
		c.w.Write([]byte(token))
		return nil
	}
	writeJSON(c.w, c.r, data{Data: Object{{"token", token}}})
	return nil
}

// basicCredentials decodes a Basic header; the payload is read as latin-1,
// byte for byte, as Wazuh does.
func basicCredentials(h string) (user, pass string, ok bool) {
	scheme, value, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return "", "", false
	}
	runes := make([]rune, len(raw))
	for i, b := range raw {
		runes[i] = rune(b)
	}
	user, pass, ok = strings.Cut(string(runes), ":")
	if !ok {
		return "", "", false
	}
	return user, pass, true
}

// logout is DELETE /security/user/authenticate.
func logout(c *call) error {
	if err := c.s.sec.Logout(c.r.Context(), c.sess); err != nil {
		return err
	}
	writeJSON(c.w, c.r, message{Message: "User " + c.sess.Username + " was successfully logged out"})
	return nil
}

// revokeAll is PUT /security/user/revoke.
func revokeAll(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	if err := c.s.sec.RevokeAll(c.r.Context()); err != nil {
		return err
	}
	writeJSON(c.w, c.r, message{Message: "Tokens were successfully revoked"})
	return nil
}

// getUserMe is GET /security/users/me: the caller with the roles its token
// carries. Dashboards poll it; the compact answer is cached per user, roles
// and security generation.
func getUserMe(c *call) error {
	key := meKey{gen: c.s.sec.Generation(), user: c.sess.Username, roles: fmt.Sprint(c.sess.Claims.RBACRoles)}
	pretty := isPretty(c.r, false)
	if !pretty {
		if body, ok := c.s.meCache.get(key); ok {
			writeRaw(c.w, body)
			return nil
		}
	}
	me, err := c.s.sec.Me(c.sess)
	if err != nil {
		return err
	}
	roles := make([]any, 0, len(me.Roles))
	for _, r := range me.Roles {
		pols := make([]any, 0, len(r.Policies))
		for _, p := range r.Policies {
			pols = append(pols, Object{{"id", p.ID}, {"name", p.Name}, {"policy", p.Body}})
		}
		rules := make([]any, 0, len(r.Rules))
		for _, x := range r.Rules {
			rules = append(rules, Object{{"id", x.ID}, {"name", x.Name}, {"rule", x.Body}})
		}
		roles = append(roles, Object{{"id", r.ID}, {"name", r.Name}, {"policies", pols}, {"rules", rules}})
	}
	b := core.NewBulk("Current user information was returned", "", "")
	b.Add(Object{{"id", me.User.ID}, {"username", me.User.Username}, {"allow_run_as", me.User.AllowRunAs},
		{"roles", roles}})
	if pretty {
		writeBulk(c.w, c.r, b)
		return nil
	}
	body, err := encode(bulkObject(b), false)
	if err != nil {
		return err
	}
	c.s.meCache.put(key, body)
	writeRaw(c.w, body)
	return nil
}

type meKey struct {
	gen   uint64
	user  string
	roles string
}

// meCache holds encoded /security/users/me answers of the current security
// generation; older generations are dropped as soon as a newer one is seen.
type meCache struct {
	mu  sync.RWMutex
	gen uint64
	m   map[meKey][]byte
}

func (m *meCache) get(k meKey) ([]byte, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.m[k]
	return b, ok
}

func (m *meCache) put(k meKey, body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || k.gen != m.gen || len(m.m) >= 10000 {
		m.gen, m.m = k.gen, map[meKey][]byte{}
	}
	m.m[k] = body
}

// getUserMePolicies is GET /security/users/me/policies.
func getUserMePolicies(c *call) error {
	writeJSON(c.w, c.r, dataMessage{Data: c.sess.Perms.Processed(),
		Message: "Current user processed policies information was returned"})
	return nil
}
