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
		cfg                       agentsim.Config
		groups, sourceIPs, crypto string
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

Examples:
  muster agent-sim --agents 10
  muster agent-sim --agents 5000 --notify-time 20s --keys sim.keys --password-file authd.pass
  muster agent-sim --agents 30000 --source-ips 127.0.0.1,127.0.0.2 --ramp 30s`,
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
			cfg.Out = os.Stderr
			_, err := agentsim.Run(cmd.Context(), cfg)
			return err
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
	return cmd
}
