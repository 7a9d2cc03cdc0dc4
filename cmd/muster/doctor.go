package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/muster-project/muster/internal/doctor"
)

// doctorCmd is `muster doctor`.
func doctorCmd() *cobra.Command {
	var (
		conn           connFlags
		output, token  string
		dataDir        string
		evidenceForOKs bool
	)
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Find the first thing wrong between this machine and a Wazuh API, and how to fix it",
		Long: `Walk the path a request takes and stop at the first problem, with the evidence
and the fix:

  url          scheme, host, port
  dns          the host name resolves
  tcp          the port accepts connections (refused, filtered by a firewall,
               or a manager bound to another address such as 127.0.0.1 only)
  tls          the handshake the client would do: self-signed, unknown or wrong CA,
               name mismatch, expired, protocol, client certificate required; the
               certificate is shown (subject, issuer, names, validity, SHA-256)
  http         the Wazuh API answers, not a proxy, the dashboard or the indexer
  login        one login (never retried: failures count towards the IP block):
               bad credentials, IP blocked (with the remaining time), rate limited
  token        a fresh token works; with --token, why a token is refused:
               expired, outdated by a security configuration change, or revoked
  permissions  what muster scan needs: agent:read on agent:id:* (and manager:read),
               naming the missing action and resource

Exit status: 0 every step passed (warnings allowed), 1 a step failed, 2 bad flags.

` + connHelp,
		Example: `  # why does my scanner fail against this manager?
  MUSTER_PASSWORD=... muster doctor --url https://wazuh.example:55000 --user wazuh-wui

  # a local muster server with its self-signed certificate
  muster doctor --ca ./muster-data/ssl/server.crt --data-dir ./muster-data

  # why is this token refused? (expired, revoked, or outdated by a config change)
  muster doctor --token "$TOKEN"

  # machine-readable, for a support ticket
  muster doctor -o json > doctor.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := conn.resolve(cmd, false); err != nil {
				return err
			}
			if output != "text" && output != "json" {
				return usageError(fmt.Sprintf("--output %q: use text or json", output))
			}
			if token == "" {
				token = os.Getenv("MUSTER_TOKEN")
			}
			r := doctor.Run(cmd.Context(), doctor.Options{URL: conn.url, User: conn.user, Password: conn.password,
				CAFiles: conn.caFiles, CertFile: conn.cert, KeyFile: conn.key, Insecure: conn.insecure,
				Timeout: conn.timeout, Token: token, DataDir: dataDir})
			out := cmd.OutOrStdout()
			var err error
			if output == "json" {
				err = doctor.WriteJSON(out, r)
			} else {
				err = doctor.WriteText(out, r, evidenceForOKs || conn.verbose)
			}
			if err != nil {
				return &exitError{code: 2, msg: "writing the report: " + err.Error()}
			}
			if !r.OK {
				return &exitError{code: 1, msg: fmt.Sprintf("the first problem is at step %q: %s", r.FirstFailure,
					r.Steps[len(r.Steps)-1].Summary)}
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(flagErrors)
	fs := cmd.Flags()
	conn.register(fs)
	fs.StringVarP(&output, "output", "o", "text", "report format: text or json")
	fs.StringVar(&token, "token", "", "a token to diagnose, as another tool got it (or MUSTER_TOKEN)")
	fs.StringVar(&dataDir, "data-dir", "", "muster's data directory, to name exact files in fixes")
	fs.BoolVar(&evidenceForOKs, "evidence", false, "show the evidence of passing steps too")
	return cmd
}
