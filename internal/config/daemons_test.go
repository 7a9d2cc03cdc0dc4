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
		"remote:\n  max_connections: -1\n", "remote:\n  max_connections_per_ip: -5\n",
		"auth:\n  max_connections: -1\n", "api:\n  max_connections_per_ip: -1\n",
		"auth:\n  force:\n    after_registration_time: soon\n", "remote:\n  bogus: 1\n"} {
		if _, err := Load(write(t, bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestConnectionCapKeys(t *testing.T) {
	c := Default()
	if c.Remote.MaxConnections != 0 || c.Remote.MaxConnectionsPerIP != 0 || c.Auth.MaxConnections != 0 ||
		c.API.MaxConnections != 0 {
		t.Errorf("the caps default to 0 (derived from the file limit at start): %+v %+v", c.Remote, c.Auth)
	}
	c, err := Load(write(t, `
api: {max_connections: 300, max_connections_per_ip: 30}
remote: {max_connections: 200, max_connections_per_ip: 20}
auth: {max_connections: 100, max_connections_per_ip: 10}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.API.MaxConnections != 300 || c.API.MaxConnectionsPerIP != 30 || c.Remote.MaxConnections != 200 ||
		c.Remote.MaxConnectionsPerIP != 20 || c.Auth.MaxConnections != 100 || c.Auth.MaxConnectionsPerIP != 10 {
		t.Errorf("loaded %+v %+v %+v", c.API, c.Remote, c.Auth)
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
