package config

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Remote holds the secure channel's settings (ossec.conf <remote> and the
// remoted.* internal options), with Wazuh's defaults.
type Remote struct {
	// Enabled runs the secure channel (muster's; Wazuh always runs remoted).
	Enabled Bool `yaml:"enabled"`
	Port    int  `yaml:"port"`
	// Protocol is tcp, udp, or both ("tcp,udp").
	Protocol Strings `yaml:"protocol"`
	// LocalIP is the address to listen on; empty means every IPv4 address,
	// or every address when IPv6 is on.
	LocalIP string `yaml:"local_ip"`
	IPv6    Bool   `yaml:"ipv6"`
	// ConnectionOvertakeTime is how long an agent's connection must be silent
	// before another connection may take its key; 0 never lets it.
	ConnectionOvertakeTime Timeframe `yaml:"connection_overtake_time"`
	// AllowHigherVersions accepts agents newer than the manager (also at enrollment).
	AllowHigherVersions Bool `yaml:"allow_higher_versions"`
	// VerifyMsgID enforces increasing message counters (remoted.verify_msg_id).
	VerifyMsgID Bool `yaml:"verify_msg_id"`
	// SharedReload is how often a group's merged.mg is rebuilt (remoted.shared_reload).
	SharedReload Timeframe `yaml:"shared_reload"`
	// KeysPollInterval is how often the key table checks the registry for
	// changes made elsewhere (remoted.keyupdate_interval).
	KeysPollInterval Timeframe `yaml:"keys_poll_interval"`
	// FlushInterval is how often connection changes are written in one batch.
	FlushInterval Timeframe `yaml:"flush_interval"`
	// MaxConnections caps the agent port's TCP connections (a muster
	// addition). 0, the default, is 80 % of what the process's file limit
	// leaves after a reserve of max(256, limit/10) descriptors, the rest
	// going to the API (12 %) and enrollment (8 %), so a flood of the agent
	// port cannot take their descriptors (internal/connlimit.Split; 14,400
	// with 20,000 descriptors). A connection over the cap is closed at once;
	// above 90 % of it, connections that sent no agent message for 5 s are
	// closed, oldest first. Negative values are refused.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerIP caps the connections of one source address (an
	// IPv6 /64) that no agent key vouched for yet; agents' connections do
	// not count, so any number of agents may share a NAT address. 0 is 256.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// Deprecated or not applicable keys that Wazuh configurations carry.
	Connection yaml.Node `yaml:"connection"`
	QueueSize  yaml.Node `yaml:"queue_size"`
}

// Auth holds the enrollment daemon's settings (ossec.conf <auth>).
type Auth struct {
	Disabled    Bool `yaml:"disabled"`
	Port        int  `yaml:"port"`
	UseSourceIP Bool `yaml:"use_source_ip"`
	UsePassword Bool `yaml:"use_password"`
	// PasswordFile is authd.pass; a relative name is in <data-dir>/etc.
	PasswordFile string `yaml:"password_file"`
	Purge        Bool   `yaml:"purge"`
	// Ciphers is accepted for compatibility; Go's TLS 1.2+ suites are used.
	Ciphers          string `yaml:"ciphers"`
	SSLAgentCA       string `yaml:"ssl_agent_ca"`
	SSLVerifyHost    Bool   `yaml:"ssl_verify_host"`
	SSLManagerCert   string `yaml:"ssl_manager_cert"`
	SSLManagerKey    string `yaml:"ssl_manager_key"`
	SSLAutoNegotiate Bool   `yaml:"ssl_auto_negotiate"`
	Force            Force  `yaml:"force"`
	// MaxConnections caps enrollment connections in progress (a muster
	// addition); 0 is 8 % of what the file limit leaves after the reserve
	// (1,440 with 20,000 descriptors). A connection over it is closed at once.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerIP caps them per source address (an IPv6 /64); 0 is 128.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
}

// Force holds the rules for replacing an agent with a duplicate name or IP.
type Force struct {
	Enabled               Bool             `yaml:"enabled"`
	KeyMismatch           Bool             `yaml:"key_mismatch"`
	DisconnectedTime      DisconnectedTime `yaml:"disconnected_time"`
	AfterRegistrationTime Timeframe        `yaml:"after_registration_time"`
}

// DisconnectedTime is <disconnected_time enabled="yes">1h</disconnected_time>.
type DisconnectedTime struct {
	Enabled Bool      `yaml:"enabled"`
	Value   Timeframe `yaml:"value"`
}

// DefaultRemote is Wazuh's <remote> default: secure, TCP 1514.
func DefaultRemote() Remote {
	return Remote{Enabled: true, Port: 1514, Protocol: Strings{"tcp"}, ConnectionOvertakeTime: 60,
		SharedReload: 10, KeysPollInterval: 5, FlushInterval: 1}
}

// DefaultAuth is Wazuh's <auth> default.
func DefaultAuth() Auth {
	return Auth{Port: 1515, Purge: true, PasswordFile: "authd.pass",
		Ciphers:        "HIGH:!ADH:!EXP:!MD5:!RC4:!3DES:!CAMELLIA:@STRENGTH",
		SSLManagerCert: "sslmanager.cert", SSLManagerKey: "sslmanager.key",
		Force: Force{Enabled: true, KeyMismatch: true, DisconnectedTime: DisconnectedTime{Enabled: true, Value: 3600},
			AfterRegistrationTime: 3600}}
}

// validateDaemons checks the remote: and auth: sections.
func (c *Config) validateDaemons(check func(bool, string, ...any)) {
	r, a := &c.Remote, &c.Auth
	for i, p := range r.Protocol {
		r.Protocol[i] = strings.ToLower(strings.TrimSpace(p))
	}
	if len(r.Protocol) == 1 && strings.Contains(r.Protocol[0], ",") {
		r.Protocol = strings.Split(r.Protocol[0], ",")
	}
	check(len(r.Protocol) > 0, "remote.protocol: tcp, udp or both")
	for _, p := range r.Protocol {
		check(p == "tcp" || p == "udp", "remote.protocol: %q is not tcp or udp", p)
	}
	check(r.Port >= 0 && r.Port < 65536, "remote.port: %d is not a port", r.Port)
	check(a.Port >= 0 && a.Port < 65536, "auth.port: %d is not a port", a.Port)
	check(r.ConnectionOvertakeTime >= 0 && r.ConnectionOvertakeTime <= 3600,
		"remote.connection_overtake_time: must be between 0 and 3600 seconds")
	check(r.SharedReload >= 1, "remote.shared_reload: must be at least 1 second")
	check(r.KeysPollInterval >= 1, "remote.keys_poll_interval: must be at least 1 second")
	check(r.FlushInterval >= 1, "remote.flush_interval: must be at least 1 second")
	check(r.MaxConnections >= 0, "remote.max_connections: must be >= 0 (0: a share of the file limit)")
	check(r.MaxConnectionsPerIP >= 0, "remote.max_connections_per_ip: must be >= 0 (0: 256)")
	check(a.MaxConnections >= 0, "auth.max_connections: must be >= 0 (0: a share of the file limit)")
	check(a.MaxConnectionsPerIP >= 0, "auth.max_connections_per_ip: must be >= 0 (0: 128)")
	check(a.PasswordFile != "", "auth.password_file: must not be empty")
	check(a.SSLManagerCert != "" && a.SSLManagerKey != "", "auth.ssl_manager_cert and ssl_manager_key are required")
}

// Timeframe is a number of seconds written as Wazuh writes time values:
// digits, optionally followed by s, m, h or d ("60", "1h", "15m").
type Timeframe int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *Timeframe) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a time such as 60, 15m or 1h", n.Line)
	}
	v, err := ParseTimeframe(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*t = Timeframe(v)
	return nil
}

// ParseTimeframe reads "90", "90s", "15m", "1h", "1d" or "1w" as seconds,
// the forms ossec.conf takes.
func ParseTimeframe(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 's':
			s = s[:len(s)-1]
		case 'm':
			mult, s = 60, s[:len(s)-1]
		case 'h':
			mult, s = 3600, s[:len(s)-1]
		case 'd':
			mult, s = 86400, s[:len(s)-1]
		case 'w':
			mult, s = 604800, s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<31 {
		return 0, fmt.Errorf("%q is not a time such as 60, 15m or 1h", s)
	}
	return n * mult, nil
}
