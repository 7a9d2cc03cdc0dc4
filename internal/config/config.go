// Package config holds muster's configuration: one Config struct whose api:
// section takes the keys of Wazuh's api.yaml verbatim, its defaults, loading
// from YAML with strict key checking, and validation.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration of a muster node.
type Config struct {
	API      API      `yaml:"api"`
	Manager  Manager  `yaml:"manager"`
	Database Database `yaml:"database"`
	Remote   Remote   `yaml:"remote"`  // the secure channel (1514)
	Auth     Auth     `yaml:"auth"`    // the enrollment daemon (1515)
	Cluster  Cluster  `yaml:"cluster"` // nodes sharing a PostgreSQL store (cluster.go)
	Metrics  Metrics  `yaml:"metrics"` // the Prometheus and health listener (metrics.go)
}

// API mirrors Wazuh's api.yaml.
type API struct {
	Host                   Hosts     `yaml:"host"`
	Port                   int       `yaml:"port"`
	DropPrivileges         Bool      `yaml:"drop_privileges"`
	ExperimentalFeatures   Bool      `yaml:"experimental_features"`
	MaxUploadSize          int64     `yaml:"max_upload_size"`
	AuthenticationPoolSize int       `yaml:"authentication_pool_size"`
	Intervals              Intervals `yaml:"intervals"`
	HTTPS                  HTTPS     `yaml:"https"`
	Logs                   Logs      `yaml:"logs"`
	CORS                   CORS      `yaml:"cors"`
	Access                 Access    `yaml:"access"`
	UploadConfiguration    yaml.Node `yaml:"upload_configuration"`
	// MaxConnections caps the API's connections (a muster addition, not an
	// api.yaml key); 0 is 12 % of what the file limit leaves after the
	// reserve (2,160 with 20,000 descriptors). Over it a connection is
	// closed at once.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerIP caps them per source address (an IPv6 /64); 0 is
	// 256. A reverse proxy in front of the API is one address.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// Deprecated keys Wazuh still accepts and ignores.
	Cache        yaml.Node `yaml:"cache"`
	UseOnlyAuthd yaml.Node `yaml:"use_only_authd"`
}

// Intervals holds api.yaml's intervals section.
type Intervals struct {
	RequestTimeout float64 `yaml:"request_timeout"`
}

// HTTPS holds api.yaml's https section.
type HTTPS struct {
	Enabled     Bool   `yaml:"enabled"`
	Key         string `yaml:"key"`
	Cert        string `yaml:"cert"`
	UseCA       Bool   `yaml:"use_ca"`
	CA          string `yaml:"ca"`
	SSLProtocol string `yaml:"ssl_protocol"`
	SSLCiphers  string `yaml:"ssl_ciphers"`
}

// Logs holds api.yaml's logs section.
type Logs struct {
	Level   string  `yaml:"level"`
	Format  string  `yaml:"format"`
	MaxSize MaxSize `yaml:"max_size"`
	Path    string  `yaml:"path"` // deprecated, ignored
}

// MaxSize selects size-based rotation of the API log.
type MaxSize struct {
	Enabled Bool   `yaml:"enabled"`
	Size    string `yaml:"size"`
}

// CORS holds api.yaml's cors section.
type CORS struct {
	Enabled          Bool    `yaml:"enabled"`
	SourceRoute      string  `yaml:"source_route"`
	ExposeHeaders    Strings `yaml:"expose_headers"`
	AllowHeaders     Strings `yaml:"allow_headers"`
	AllowCredentials Bool    `yaml:"allow_credentials"`
}

// Access holds api.yaml's access section: login blocking and rate limits.
type Access struct {
	MaxLoginAttempts    int `yaml:"max_login_attempts"`
	BlockTime           int `yaml:"block_time"`
	MaxRequestPerMinute int `yaml:"max_request_per_minute"`
}

// Manager holds the manager settings muster uses from Wazuh's ossec.conf.
type Manager struct {
	NodeName string `yaml:"node_name"`
	// AgentsDisconnectionTime is the seconds without keepalive after which an
	// agent is disconnected (ossec.conf <agents_disconnection_time>).
	AgentsDisconnectionTime int `yaml:"agents_disconnection_time"`
}

// Database selects the store.
type Database struct {
	Driver string `yaml:"driver"` // sqlite (default) or postgres
	DSN    string `yaml:"dsn"`    // postgres connection string; sqlite file path (default <data-dir>/muster.db)
	// MaxSecurityStaleness is how many seconds a node sharing the store with
	// others may go without confirming its security state (users,
	// passwords, roles, revocations) with it before it refuses logins and
	// authenticated requests with a 503 (0: the default, 5).
	MaxSecurityStaleness int `yaml:"max_security_staleness"`
}

// Default returns Wazuh 4.14's defaults.
func Default() Config {
	return Config{
		API: API{
			Host:                   Hosts{"0.0.0.0", "::"},
			Port:                   55000,
			DropPrivileges:         true,
			MaxUploadSize:          10485760,
			AuthenticationPoolSize: 2,
			Intervals:              Intervals{RequestTimeout: 10},
			HTTPS: HTTPS{Enabled: true, Key: "server.key", Cert: "server.crt", CA: "ca.crt",
				SSLProtocol: "auto"},
			Logs:   Logs{Level: "info", Format: "plain", MaxSize: MaxSize{Size: "1M"}},
			CORS:   CORS{SourceRoute: "*", ExposeHeaders: Strings{"*"}, AllowHeaders: Strings{"*"}},
			Access: Access{MaxLoginAttempts: 50, BlockTime: 300, MaxRequestPerMinute: 300},
		},
		Manager:  Manager{NodeName: "node01", AgentsDisconnectionTime: 600},
		Database: Database{Driver: "sqlite", MaxSecurityStaleness: 5},
		Remote:   DefaultRemote(),
		Auth:     DefaultAuth(),
	}
}

// Load reads a YAML file over the defaults. Unknown keys are errors that name
// the line, as Wazuh refuses an api.yaml with unexpected keys.
func Load(path string) (Config, error) {
	cfg := Default()
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	if err := decode(data, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, cfg.Validate()
}

func decode(data []byte, cfg *Config) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return err
	}
	return nil
}

var (
	logLevels  = []string{"disabled", "info", "warning", "error", "debug", "debug2"}
	logFormats = []string{"plain", "json", "plain,json", "json,plain"}
	protocols  = []string{"tls", "tlsv1", "tlsv1.1", "tlsv1.2", "auto"}
)

// Validate checks values the way Wazuh's api.yaml schema does, and normalises
// the values Wazuh lower-cases.
func (c *Config) Validate() error {
	a := &c.API
	a.Logs.Level = strings.ToLower(a.Logs.Level)
	a.Logs.Format = strings.ToLower(strings.ReplaceAll(a.Logs.Format, " ", ""))
	a.HTTPS.SSLProtocol = strings.ToLower(a.HTTPS.SSLProtocol)
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(len(a.Host) > 0, "api.host: at least one address is required")
	check(a.Port >= 0 && a.Port < 65536, "api.port: %d is not a TCP port (0 picks a free one)", a.Port)
	check(a.MaxUploadSize >= 0, "api.max_upload_size: must be >= 0")
	check(a.MaxConnections >= 0, "api.max_connections: must be >= 0 (0: a share of the file limit)")
	check(a.MaxConnectionsPerIP >= 0, "api.max_connections_per_ip: must be >= 0 (0: 256)")
	check(a.AuthenticationPoolSize >= 1 && a.AuthenticationPoolSize <= 50,
		"api.authentication_pool_size: must be between 1 and 50")
	check(a.Intervals.RequestTimeout >= 0, "api.intervals.request_timeout: must be >= 0")
	check(oneOf(a.Logs.Level, logLevels), "api.logs.level: %q is not one of %v", a.Logs.Level, logLevels)
	check(oneOf(a.Logs.Format, logFormats), "api.logs.format: %q is not one of %v", a.Logs.Format, logFormats)
	check(oneOf(a.HTTPS.SSLProtocol, protocols), "api.https.ssl_protocol: %q is not one of %v", a.HTTPS.SSLProtocol, protocols)
	if a.Logs.MaxSize.Enabled {
		_, err := a.Logs.MaxSize.Bytes()
		check(err == nil, "api.logs.max_size.size: %v", err)
	}
	check(a.Access.MaxLoginAttempts >= 0, "api.access.max_login_attempts: must be >= 0")
	check(a.Access.BlockTime >= 0, "api.access.block_time: must be >= 0")
	check(a.Access.MaxRequestPerMinute >= 0, "api.access.max_request_per_minute: must be >= 0")
	check(c.Manager.AgentsDisconnectionTime > 0, "manager.agents_disconnection_time: must be > 0")
	check(c.Manager.NodeName != "", "manager.node_name: must not be empty")
	check(c.Database.Driver == "sqlite" || c.Database.Driver == "postgres",
		"database.driver: %q is not sqlite or postgres", c.Database.Driver)
	check(c.Database.Driver != "postgres" || c.Database.DSN != "", "database.dsn: required for postgres")
	check(c.Database.MaxSecurityStaleness >= 0 && c.Database.MaxSecurityStaleness <= 3600,
		"database.max_security_staleness: must be between 0 (the default, 5) and 3600 seconds")
	c.validateDaemons(check)
	c.validateCluster(check)
	return errors.Join(errs...)
}

// Bytes parses a rotation size such as 1M or 512K.
func (m MaxSize) Bytes() (int64, error) {
	s := strings.ToUpper(strings.TrimSpace(m.Size))
	var n int64
	var unit string
	if _, err := fmt.Sscanf(s, "%d%s", &n, &unit); err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 1M or 512K", m.Size)
	}
	switch unit {
	case "K":
		return n << 10, nil
	case "M":
		return n << 20, nil
	}
	return 0, fmt.Errorf("%q is not a size such as 1M or 512K", m.Size)
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}
