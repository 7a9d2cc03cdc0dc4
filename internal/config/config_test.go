package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "muster.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreWazuhs(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.API.Port != 55000 || !bool(c.API.HTTPS.Enabled) || c.API.Access.MaxLoginAttempts != 50 ||
		c.API.Access.BlockTime != 300 || c.API.Access.MaxRequestPerMinute != 300 || c.API.MaxUploadSize != 10485760 ||
		c.Manager.AgentsDisconnectionTime != 600 || len(c.API.Host) != 2 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadAPIYAMLKeys(t *testing.T) {
	c, err := Load(write(t, `
api:
  host: 127.0.0.1
  port: 55001
  https:
    enabled: no
    use_ca: False
    ssl_protocol: TLSv1.2
  logs:
    level: DEBUG
    format: json,plain
  access:
    max_login_attempts: 5
    block_time: 60
    max_request_per_minute: 0
  cors:
    enabled: yes
    expose_headers: "*"
  upload_configuration:
    remote_commands:
      localfile:
        allow: yes
manager:
  agents_disconnection_time: 20
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.API.Host[0] != "127.0.0.1" || c.API.Port != 55001 || bool(c.API.HTTPS.Enabled) || c.API.HTTPS.SSLProtocol != "tlsv1.2" ||
		c.API.Logs.Level != "debug" || c.API.Logs.Format != "json,plain" || c.API.Access.MaxLoginAttempts != 5 ||
		!bool(c.API.CORS.Enabled) || c.Manager.AgentsDisconnectionTime != 20 {
		t.Fatalf("loaded: %+v", c)
	}
	// Keys not in the file keep their defaults.
	if c.API.HTTPS.Cert != "server.crt" || c.API.MaxUploadSize != 10485760 {
		t.Fatalf("defaults lost: %+v", c.API)
	}
}

func TestLoadRejects(t *testing.T) {
	cases := map[string]string{
		"unknown key":     "api:\n  prot: 1\n",
		"unknown section": "apis: {}\n",
		"bad bool":        "api:\n  https:\n    enabled: maybe\n",
		"bad log level":   "api:\n  logs:\n    level: loud\n",
		"bad format":      "api:\n  logs:\n    format: xml\n",
		"pool too large":  "api:\n  authentication_pool_size: 51\n",
		"bad port":        "api:\n  port: 70000\n",
		"postgres no dsn": "database:\n  driver: postgres\n",
		"bad rotation":    "api:\n  logs:\n    max_size:\n      enabled: true\n      size: 1G\n",
		"bad protocol":    "api:\n  https:\n    ssl_protocol: ssl3\n",
		"negative access": "api:\n  access:\n    block_time: -1\n",
		"not a mapping":   "- 1\n",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(write(t, body)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestUnknownKeyNamesTheLine(t *testing.T) {
	_, err := Load(write(t, "api:\n  port: 1\n  hots: x\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("error should name line 3: %v", err)
	}
}

func TestMaxSizeBytes(t *testing.T) {
	for in, want := range map[string]int64{"1M": 1 << 20, "512K": 512 << 10, "2m": 2 << 20} {
		if got, err := (MaxSize{Size: in}).Bytes(); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
}
