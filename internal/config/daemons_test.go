package config

import (
	"strings"
	"testing"
)

func TestDaemonDefaults(t *testing.T) {
	c := Default()
	r, a := c.Remote, c.Auth
	if !bool(r.Enabled) || r.Port != 1514 || len(r.Protocol) != 1 || r.Protocol[0] != "tcp" ||
		r.ConnectionOvertakeTime != 60 || r.SharedReload != 10 || bool(r.VerifyMsgID) || bool(r.AllowHigherVersions) {
		t.Errorf("remote defaults: %+v", r)
	}
	if bool(a.Disabled) || a.Port != 1515 || bool(a.UseSourceIP) || bool(a.UsePassword) || !bool(a.Purge) ||
		!bool(a.Force.Enabled) || !bool(a.Force.KeyMismatch) || !bool(a.Force.DisconnectedTime.Enabled) ||
		a.Force.DisconnectedTime.Value != 3600 || a.Force.AfterRegistrationTime != 3600 ||
		a.SSLManagerCert != "sslmanager.cert" || a.PasswordFile != "authd.pass" {
		t.Errorf("auth defaults: %+v", a)
	}
}

func TestLoadDaemonSections(t *testing.T) {
	c, err := Load(write(t, `
remote:
  port: 11514
  protocol: TCP,udp
  connection_overtake_time: 2m
  allow_higher_versions: yes
auth:
  use_password: yes
  use_source_ip: yes
  ssl_agent_ca: /etc/ca.pem
  force:
    enabled: no
    disconnected_time: {enabled: no, value: 30m}
    after_registration_time: 1d
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Remote.Port != 11514 || strings.Join(c.Remote.Protocol, ",") != "tcp,udp" ||
		c.Remote.ConnectionOvertakeTime != 120 || !bool(c.Remote.AllowHigherVersions) {
		t.Errorf("remote: %+v", c.Remote)
	}
	f := c.Auth.Force
	if !bool(c.Auth.UsePassword) || !bool(c.Auth.UseSourceIP) || c.Auth.SSLAgentCA != "/etc/ca.pem" ||
		bool(f.Enabled) || bool(f.DisconnectedTime.Enabled) || f.DisconnectedTime.Value != 1800 ||
		f.AfterRegistrationTime != 86400 {
		t.Errorf("auth: %+v", c.Auth)
	}
	for _, bad := range []string{"remote:\n  protocol: sctp\n", "remote:\n  connection_overtake_time: 1d\n",
		"auth:\n  force:\n    after_registration_time: soon\n", "remote:\n  bogus: 1\n"} {
		if _, err := Load(write(t, bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestParseTimeframe(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "90": 90, " 90s ": 90, "15m": 900, "1h": 3600, "1d": 86400, "2w": 1209600} {
		if n, err := ParseTimeframe(s); err != nil || n != want {
			t.Errorf("%q: %d, %v; want %d", s, n, err, want)
		}
	}
	for _, s := range []string{"", "h", "-1", "1y", "1.5h", "1h2m", "99999999999"} {
		if n, err := ParseTimeframe(s); err == nil {
			t.Errorf("%q accepted as %d", s, n)
		}
	}
}
