package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/agentsim"
)

func agentSimCmd() *cobra.Command {
	var (
		cfg                              agentsim.Config
		groups, sourceIPs, crypto, fleet string
	)
	cmd := &cobra.Command{
		Use:   "agent-sim",
		Short: "Simulate Wazuh agents: enroll over 1515, keep alive over 1514",
		Long: `Run N simulated Wazuh agents against a manager (muster or Wazuh). Each one
enrolls over the enrollment protocol on port 1515 (or reuses a key from
--keys), connects to the secure channel on port 1514, sends its startup and a
keepalive every --notify-time, applies the shared files the manager pushes,
and sends its shutdown when the command is interrupted (Ctrl-C).

A progress line on stderr gives the number of connected agents and the
keepalive-to-ACK latency (p50, p99, max) of the last interval.

--enroll-only enrolls (writing the keys to --keys) and exits: with status 1,
saying how many, when any enrollment failed.

--fleet FILE plays a mixed fleet instead of --agents identical ones: a YAML
(or, for a .csv name, CSV) file with one entry per agent or per block of
agents (count: 50 with a name such as web-{n:03}). Per agent: name, id and key
(or keys: a client.keys to take them from, matched by name and id), version
(a 3.13.2 agent sends what a real 3.13.2 agent sends), os (a preset such as
ubuntu-22.04, or uname and os-release fields), groups, labels, source address,
keepalive period, managers (a <server> list, failed over in order) and
behaviour: active, "silent after 30s", "never connects" or "flapping 1m/30s".
Fields not given take the flags' values.
OS presets: ` + strings.Join(agentsim.OSPresets(), ", ") + `.

  keys: sim.keys
  agents:
    - {name: "web-{n:02}", count: 4, version: 4.14.7, os: ubuntu-22.04, groups: [web], labels: {env: prod}}
    - {name: legacy-db, version: 3.13.2, os: centos-7, behaviour: silent after 5m}
    - {name: edge-01, managers: [10.0.0.2, 10.0.0.3:1514], behaviour: flapping 2m/1m}

Examples:
  muster agent-sim --agents 10
  muster agent-sim --agents 5000 --notify-time 20s --keys sim.keys --password-file authd.pass
  muster agent-sim --agents 30000 --source-ips 127.0.0.1,127.0.0.2 --ramp 30s
  muster agent-sim --fleet fleet.yaml --manager 10.0.0.2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if groups != "" {
				cfg.Groups = strings.Split(groups, ",")
			}
			if sourceIPs != "" {
				cfg.SourceIPs = strings.Split(sourceIPs, ",")
			}
			switch strings.ToLower(crypto) {
			case "aes":
				cfg.Method = agentproto.MethodAES
			case "blowfish":
				cfg.Method = agentproto.MethodBlowfish
			default:
				return fmt.Errorf("--crypto: %q is not aes or blowfish", crypto)
			}
			cfg.Protocol = strings.ToLower(cfg.Protocol)
			if cfg.Protocol != "tcp" && cfg.Protocol != "udp" {
				return fmt.Errorf("--protocol: %q is not tcp or udp", cfg.Protocol)
			}
			if pf, _ := cmd.Flags().GetString("password-file"); pf != "" {
				b, err := os.ReadFile(pf)
				if err != nil {
					return err
				}
				cfg.Password = strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r")
			}
			if env := os.Getenv("MUSTER_AGENT_PASSWORD"); env != "" && cfg.Password == "" {
				cfg.Password = env
			}
			if fleet != "" {
				for _, n := range []string{"agents", "name-prefix"} {
					if cmd.Flags().Changed(n) {
						return fmt.Errorf("--%s does not apply with --fleet: the fleet file names its agents", n)
					}
				}
				f, err := agentsim.LoadFleet(fleet)
				if err != nil {
					return err
				}
				cfg.Fleet = f
			}
			cfg.Out = os.Stderr
			stats, err := agentsim.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			// A script that enrolls agents must not go on as if they existed.
			if failed := stats.EnrollFails.Load(); failed > 0 && cfg.EnrollOnly {
				return &exitError{code: 1, msg: fmt.Sprintf("%d of %d enrollments failed (the first errors are above): "+
					"check --manager, --enroll-port, --password-file and the manager's authd log", failed, failed+stats.Enrolled.Load())}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Agents, "agents", 1, "number of agents")
	f.StringVar(&cfg.Manager, "manager", "127.0.0.1", "manager address")
	f.IntVar(&cfg.EnrollPort, "enroll-port", 1515, "enrollment port")
	f.IntVar(&cfg.Port, "port", 1514, "secure channel port")
	f.StringVar(&cfg.Protocol, "protocol", "tcp", "secure channel transport: tcp or udp")
	f.String("password-file", "", "file whose first line is the enrollment password (or MUSTER_AGENT_PASSWORD)")
	f.StringVar(&cfg.Password, "password", "", "enrollment password (visible to other users: prefer --password-file)")
	f.StringVar(&cfg.NamePrefix, "name-prefix", "sim-", "agent names are <prefix>00001, <prefix>00002, ...")
	f.StringVar(&groups, "groups", "", "comma-separated groups to enroll into")
	f.DurationVar(&cfg.NotifyTime, "notify-time", 20*time.Second, "keepalive period")
	f.StringVar(&cfg.Version, "agent-version", "v4.14.7", "Wazuh version the agents report")
	f.StringVar(&crypto, "crypto", "aes", "message cipher: aes or blowfish")
	f.StringVar(&cfg.KeysFile, "keys", "", "client.keys file to reuse; agents enrolled beyond it are appended")
	f.StringVar(&sourceIPs, "source-ips", "", "local addresses to connect from, in turn (more than ~28,000 agents need several)")
	f.IntVar(&cfg.EnrollConcurrency, "enroll-concurrency", 32, "enrollments in flight")
	f.BoolVar(&cfg.EnrollOnly, "enroll-only", false, "enroll (or load keys) and exit")
	f.DurationVar(&cfg.Ramp, "ramp", 0, "spread the agents' first connections over this long")
	f.DurationVar(&cfg.ReportEvery, "report-every", 10*time.Second, "progress line period")
	f.StringVar(&fleet, "fleet", "", "YAML or CSV file describing each agent (name, key, version, os, groups, labels, "+
		"source, keepalive, managers, behaviour); replaces --agents")
	return cmd
}
