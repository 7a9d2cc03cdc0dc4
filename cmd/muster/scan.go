package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/scan"
)

// ageFlag is a duration flag that also takes days ("30d").
type ageFlag struct{ d *time.Duration }

func (a ageFlag) String() string {
	if a.d == nil || *a.d == 0 {
		return ""
	}
	return scan.FormatAge(*a.d)
}
func (a ageFlag) Set(s string) error {
	d, err := scan.ParseAge(s)
	if err == nil {
		*a.d = d
	}
	return err
}
func (a ageFlag) Type() string { return "duration" }

// scanFlags are muster scan's flags.
type scanFlags struct {
	conn                                       connFlags
	output, buckets, listen                    string
	pageSize, rows                             int
	notify, stale, disconnection, grace, watch time.Duration
	max                                        []string
	all, perAgent, quiet                       bool
}

// scanCmd is `muster scan`; extra client options are for tests.
func scanCmd(extra ...client.Option) *cobra.Command {
	f := &scanFlags{grace: scan.DefaultNeverConnectedGrace}
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Report the health of every agent of a Wazuh (or muster) manager",
		Long: `Log in, read the manager's settings, fetch every agent page by page and classify
each one: active, stale (silent for longer than 3 × notify_time), pending,
disconnected and never connected (both with age buckets), plus the findings
outdated (version behind the manager), config_not_synced, duplicate_name and
duplicate_ip. The rules are in docs/scanner.md.

Exit status: 0 healthy, 1 a finding over its --max limit (by default any
finding at all), 2 the scan could not run (then try muster doctor with the
same flags). Progress goes to stderr, the report to stdout.

` + connHelp,
		Example: `  # one scan of a local muster server, trusting its self-signed certificate
  MUSTER_PASSWORD=... muster scan --ca ./muster-data/ssl/server.crt

  # a Wazuh manager; tolerate some disconnected and outdated agents
  muster scan --url https://wazuh.example:55000 --user wazuh-wui --password-file ~/.wazuh-pw \
      --ca wazuh-server.crt --max disconnected=5% --max outdated=10 --max duplicate_ip=off

  # JSON or CSV for other tools; Prometheus text for the node exporter's textfile collector
  muster scan -o json | jq '.agents[] | select(.class == "stale")'
  muster scan -o csv --all > agents.csv
  muster scan -o prometheus > /var/lib/node_exporter/wazuh_agents.prom

  # keep scanning every 5 minutes with one token, and serve the figures to Prometheus
  muster scan --watch 5m --listen :9798 --per-agent-metrics`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd, extra) },
	}
	cmd.SetFlagErrorFunc(flagErrors)
	fs := cmd.Flags()
	f.conn.register(fs)
	fs.StringVarP(&f.output, "output", "o", "table", "report format: table, json, csv or prometheus")
	fs.IntVar(&f.pageSize, "page-size", scan.DefaultPageSize, "agents per request (Wazuh allows up to 100000)")
	fs.Var(ageFlag{&f.notify}, "notify-time", "agents' keepalive interval (default: Wazuh's, 20s since 4.13, 10s before)")
	fs.Var(ageFlag{&f.stale}, "stale-after", "silence after which an active agent is stale (default: min(3 × notify time, agents_disconnection_time))")
	fs.Var(ageFlag{&f.disconnection}, "disconnection-time", "the manager's agents_disconnection_time (default: read from the manager, else Wazuh's default)")
	fs.Var(ageFlag{&f.grace}, "never-connected-grace", "how long a registered agent may take to connect before it is a finding")
	fs.StringVar(&f.buckets, "buckets", "24h,72h,30d", "age bucket bounds for disconnected and never-connected agents")
	fs.StringArrayVar(&f.max, "max", nil, "FINDING=LIMIT: allow up to LIMIT agents (a count, a percentage like 5%, or off) with a finding before exiting 1; repeatable; FINDING may be all")
	fs.BoolVar(&f.all, "all", false, "list every agent, not only those with findings (json, csv, table)")
	fs.IntVar(&f.rows, "rows", 50, "agents shown by the table (0: all)")
	fs.Var(ageFlag{&f.watch}, "watch", "scan again every INTERVAL (e.g. 5m) until interrupted, with one cached token")
	fs.StringVar(&f.listen, "listen", "", "serve the figures as Prometheus metrics on ADDR (e.g. :9798) at /metrics; implies --watch 1m")
	fs.BoolVar(&f.perAgent, "per-agent-metrics", false, "with --listen: one keepalive-age series per agent (high cardinality on big fleets)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress on stderr")
	return cmd
}

// run checks the flags, builds the client and scans once or repeatedly.
func (f *scanFlags) run(cmd *cobra.Command, extra []client.Option) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := f.conn.resolve(cmd, true); err != nil {
		return err
	}
	if !slicesContains(scan.Formats, f.output) {
		return usageError(fmt.Sprintf("--output %q: use one of %s", f.output, strings.Join(scan.Formats, ", ")))
	}
	th := scan.DefaultThresholds()
	for _, m := range f.max {
		if err := th.Set(m); err != nil {
			return usageError("--max " + err.Error())
		}
	}
	buckets, err := scan.ParseBuckets(f.buckets)
	if err != nil {
		return usageError("--buckets: " + err.Error())
	}
	if f.listen != "" && f.watch == 0 {
		f.watch = time.Minute
	}
	if f.pageSize <= 0 || f.pageSize > client.MaxPageSize {
		return usageError(fmt.Sprintf("--page-size %d: use 1 to %d", f.pageSize, client.MaxPageSize))
	}
	// An agent record is well under 16 KiB: a bigger answer is not a page of agents.
	limit := client.WithMaxBodySize(int64(f.pageSize)*16<<10 + 1<<20)
	c, err := f.conn.newClient(stderr, append([]client.Option{limit}, extra...)...)
	if err != nil {
		return err
	}
	opts := scan.Options{PageSize: f.pageSize, NotifyTime: f.notify, StaleAfter: f.stale, DisconnectionTime: f.disconnection,
		NeverConnectedGrace: f.grace, Buckets: buckets, Thresholds: th, AllAgents: f.all, PerAgent: f.perAgent}
	endProgress := func() {}
	if !f.quiet {
		opts.Progress, endProgress = scan.Progress(stderr, isTerminal(stderr))
	}
	ctx := cmd.Context()
	if f.watch == 0 {
		r, err := scan.Run(ctx, c, opts)
		endProgress()
		if err != nil {
			return err
		}
		return f.emit(cmd, r, true)
	}

	var exp *scan.Exporter
	print := true
	if f.listen != "" {
		exp = scan.NewExporter(f.perAgent)
		ln, err := net.Listen("tcp", f.listen)
		if err != nil {
			return usageError(fmt.Sprintf("--listen %s: %v", f.listen, err))
		}
		srv := &http.Server{Handler: exp, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(stderr, "muster: serving metrics on http://%s/metrics\n", ln.Addr())
		print = cmd.Flags().Changed("output")
	}
	last := 0
	scan.Watch(ctx, c, opts, f.watch, func(r *scan.Report, err error) {
		endProgress()
		if exp != nil {
			exp.Update(r, err, c.Logins(), time.Now())
		}
		if err != nil {
			last = 2
			fmt.Fprintf(stderr, "muster: %s: %v\n", time.Now().Format(time.DateTime), err)
			return
		}
		last = r.ExitCode
		if print {
			if err := scan.Write(stdout, r, f.output, f.rows); err != nil {
				fmt.Fprintln(stderr, "muster:", err)
			}
		}
		if !print || f.output != "table" {
			fmt.Fprintf(stderr, "%s summary: %s\n", time.Now().Format(time.DateTime), scan.Summary(r))
		}
	})
	if last != 0 {
		return &exitError{code: last, msg: fmt.Sprintf("stopped; the last scan ended with exit status %d", last)}
	}
	return nil
}

// emit writes one report and turns its verdict into the exit status.
func (f *scanFlags) emit(cmd *cobra.Command, r *scan.Report, summary bool) error {
	if err := scan.Write(cmd.OutOrStdout(), r, f.output, f.rows); err != nil {
		return &exitError{code: 2, msg: "writing the report: " + err.Error()}
	}
	if summary && f.output != "table" {
		fmt.Fprintln(cmd.ErrOrStderr(), "summary:", scan.Summary(r))
	}
	if r.ExitCode != 0 {
		parts := make([]string, len(r.Breaches))
		for i, b := range r.Breaches {
			parts[i] = b.String()
		}
		return &exitError{code: r.ExitCode, msg: "findings over their limits: " + strings.Join(parts, ", ") +
			" (allow them with --max FINDING=LIMIT)"}
	}
	return nil
}

func slicesContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
