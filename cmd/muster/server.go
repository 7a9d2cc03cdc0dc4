package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/manager"
)

func serverCmd() *cobra.Command {
	var (
		configFile, dataDir, apiHost, logLevel string
		apiPort                                int
		adminPwFile, wuiPwFile, metricsListen  string
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the manager: the Wazuh server API on port 55000",
		Long: `Run the manager. It serves the Wazuh 4.14 server API over HTTPS on port 55000,
with a self-signed certificate made on first start, on the embedded SQLite store
in the data directory (or PostgreSQL, see database: in the config file).

First start creates the data directory (mode 0700) with the database, ssl/ and
logs/api.log, and the default users wazuh/wazuh and wazuh-wui/wazuh-wui (as
Wazuh ships them; change their passwords, or set them at first start with
MUSTER_ADMIN_PASSWORD / MUSTER_WUI_PASSWORD or the --*-password-file flags).

The config file is YAML; its api: section takes the keys of Wazuh's api.yaml
(host, port, https, logs, access, cors, ...). See docs/configuration.md.

Try it:
  TOKEN=$(curl -su wazuh:wazuh -k -X POST "https://localhost:55000/security/user/authenticate?raw=true")
  curl -k -H "Authorization: Bearer $TOKEN" "https://localhost:55000/?pretty=true"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := config.Default()
			if configFile != "" {
				var err error
				if cfg, err = config.Load(configFile); err != nil {
					return fmt.Errorf("config: %w", err)
				}
			}
			if cmd.Flags().Changed("api-host") {
				cfg.API.Host = strings.Split(apiHost, ",")
			}
			if cmd.Flags().Changed("api-port") {
				cfg.API.Port = apiPort
			}
			if cmd.Flags().Changed("metrics-listen") {
				cfg.Metrics.Listen = metricsListen
			}
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("config: %w", err)
			}
			pw, err := initialPasswords(adminPwFile, wuiPwFile)
			if err != nil {
				return err
			}
			level := slog.LevelInfo
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			return manager.Run(cmd.Context(), manager.Options{Config: cfg, DataDir: dataDir, Passwords: pw, Log: log})
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "YAML configuration file (its api: section takes api.yaml's keys)")
	f.StringVar(&dataDir, "data-dir", "./muster-data", "directory for the database, certificates and logs")
	f.StringVar(&apiHost, "api-host", "", "addresses to listen on, comma-separated (overrides api.host; default 0.0.0.0,::)")
	f.IntVar(&apiPort, "api-port", 55000, "port to listen on (overrides api.port)")
	f.StringVar(&metricsListen, "metrics-listen", "", "address serving Prometheus /metrics, /livez and /readyz over plain HTTP, e.g. 127.0.0.1:9155 (overrides metrics.listen; off by default)")
	f.StringVar(&adminPwFile, "admin-password-file", "", "file holding the initial password of user wazuh (first start only; or MUSTER_ADMIN_PASSWORD)")
	f.StringVar(&wuiPwFile, "wui-password-file", "", "file holding the initial password of user wazuh-wui (first start only; or MUSTER_WUI_PASSWORD)")
	f.StringVar(&logLevel, "log-level", "info", "operational log level on stderr: debug, info, warn, error")
	return cmd
}

// initialPasswords reads the first-start passwords from files or the environment.
func initialPasswords(adminFile, wuiFile string) (core.InitialPasswords, error) {
	read := func(file, env string) (string, error) {
		if file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				return "", err
			}
			return strings.TrimRight(string(b), "\r\n"), nil
		}
		return os.Getenv(env), nil
	}
	admin, err := read(adminFile, "MUSTER_ADMIN_PASSWORD")
	if err != nil {
		return core.InitialPasswords{}, err
	}
	wui, err := read(wuiFile, "MUSTER_WUI_PASSWORD")
	return core.InitialPasswords{Admin: admin, WUI: wui}, err
}
