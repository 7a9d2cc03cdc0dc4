package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/history"
	"github.com/muster-project/muster/internal/coverage/htmlreport"
	"github.com/muster-project/muster/internal/coverage/metrics"

	// The source kinds a config may name.
	_ "github.com/muster-project/muster/internal/coverage/source/crowdstrike"
	_ "github.com/muster-project/muster/internal/coverage/source/file"
	_ "github.com/muster-project/muster/internal/coverage/source/intune"
	_ "github.com/muster-project/muster/internal/coverage/source/jamf"
	_ "github.com/muster-project/muster/internal/coverage/source/meshcentral"
	_ "github.com/muster-project/muster/internal/coverage/source/ninjaone"
	_ "github.com/muster-project/muster/internal/coverage/source/rest"
	_ "github.com/muster-project/muster/internal/coverage/source/sentinelone"
	_ "github.com/muster-project/muster/internal/coverage/source/wazuh"
	_ "github.com/muster-project/muster/internal/coverage/source/zabbix"
)

var coverageFormats = []string{"table", "json", "csv", "prometheus", "html"}

type coverageFlags struct {
	config, output, listen string
	max                    []string
	watch                  time.Duration
	quiet                  bool
}

func coverageCmd() *cobra.Command {
	f := &coverageFlags{}
	cmd := &cobra.Command{
		Use:   "coverage",
		Short: "Reconcile agent coverage across security tools: missing agents, silent failures, drift",
		Long: `Read every source the config lists (a Wazuh manager, MeshCentral, Zabbix,
CrowdStrike Falcon, Microsoft Intune, Jamf Pro, SentinelOne, NinjaOne, any JSON
REST API, CSV or JSON exports) through its own API, decide which records are one machine
(by serial number, then MAC address, then host name), and report:

  missing_agent      a device a scope source knows has no record in a required source
  silent_failure     a tool saw the device alive within the window, a required agent on it is not healthy
  orphan             an agent record no other source knows
  duplicate          one device with several records in one source
  stale_everywhere   no source has seen the device within the window
  identity_conflict  records that disagree on an identifier they share
  unidentified       a record with no identifier at all

each with the source records that prove it. A source that cannot be read is
reported unavailable with the reason, and no finding rests on it.

Exit status: 0 covered, 1 a finding kind over its --max limit (by default any
finding), 2 the run could not be made or a source was unavailable. Progress goes
to stderr, the report to stdout. The config is described in docs/coverage.md.`,
		Example: `  muster coverage --config coverage.yaml
  muster coverage --config coverage.yaml -o html > coverage.html
  muster coverage --config coverage.yaml -o json | jq '.findings[] | select(.kind == "silent_failure")'
  muster coverage --config coverage.yaml --max duplicate=off --max missing_agent=2%
  muster coverage --config coverage.yaml --watch 10m --listen :9799
  muster coverage history --config coverage.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd) },
	}
	cmd.SetFlagErrorFunc(flagErrors)
	fs := cmd.Flags()
	fs.StringVarP(&f.config, "config", "c", "", "the coverage policy file (YAML; required)")
	fs.StringVarP(&f.output, "output", "o", "table", "report format: table, json, csv, prometheus or html")
	fs.StringArrayVar(&f.max, "max", nil, "KIND=LIMIT: allow up to LIMIT findings of KIND (a count, a share of devices like 5%, or off) before exiting 1; repeatable; KIND may be all; overrides the config's max:")
	fs.Var(ageFlag{&f.watch}, "watch", "run again every INTERVAL (e.g. 10m) until interrupted, with one cached login per source")
	fs.StringVar(&f.listen, "listen", "", "serve Prometheus metrics on ADDR (e.g. :9799) at /metrics; implies --watch 5m")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress on stderr")
	cmd.AddCommand(coverageHistoryCmd())
	return cmd
}

func (f *coverageFlags) run(cmd *cobra.Command) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if f.config == "" {
		return usageError("--config FILE is required: the file lists the sources and the requirements (docs/coverage.md has an example)")
	}
	if !slicesContains(coverageFormats, f.output) {
		return usageError(fmt.Sprintf("--output %q: use one of %s", f.output, strings.Join(coverageFormats, ", ")))
	}
	plan, err := coverage.LoadFile(f.config, coverage.Env{Dir: filepath.Dir(f.config), Stderr: stderr,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return &exitError{code: coverage.ExitIncomplete, msg: err.Error()}
	}
	defer plan.Close()
	var limits coverage.Thresholds
	if len(f.max) > 0 {
		limits = coverage.Thresholds{}
		for k, v := range plan.Limits {
			limits[k] = v
		}
		for _, m := range f.max {
			if err := limits.Set(m); err != nil {
				return usageError("--max " + err.Error())
			}
		}
	}
	var store *history.Store
	if h := plan.History; h != nil {
		target := h.Path
		if target == "" {
			target = h.DSN
		}
		if store, err = history.Open(cmd.Context(), target); err != nil {
			return &exitError{code: coverage.ExitIncomplete, msg: "history: " + err.Error()}
		}
		defer store.Close()
	}
	r := &coverageRunner{plan: plan, store: store, limits: limits, stderr: stderr, quiet: f.quiet}
	ctx := cmd.Context()
	if f.listen != "" && f.watch == 0 {
		f.watch = 5 * time.Minute
	}
	if f.watch == 0 {
		rep, err := r.once(ctx)
		if werr := write(stdout, rep, f.output, r.exp); werr != nil {
			return &exitError{code: 2, msg: "writing the report: " + werr.Error()}
		}
		if err != nil {
			return &exitError{code: coverage.ExitIncomplete, msg: err.Error()}
		}
		return verdict(rep)
	}
	print := true
	if f.listen != "" {
		ln, err := net.Listen("tcp", f.listen)
		if err != nil {
			return usageError(fmt.Sprintf("--listen %s: %v", f.listen, err))
		}
		srv := &http.Server{Handler: metricsMux(r.exp), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(stderr, "muster: serving metrics on http://%s/metrics\n", ln.Addr())
		print = cmd.Flags().Changed("output")
	}
	last := 0
	for {
		rep, err := r.once(ctx)
		if ctx.Err() != nil {
			break
		}
		last = rep.ExitCode
		if print {
			if werr := write(stdout, rep, f.output, r.exp); werr != nil {
				fmt.Fprintln(stderr, "muster:", werr)
			}
		}
		if err != nil {
			last = coverage.ExitIncomplete
			fmt.Fprintf(stderr, "muster: %s: %v\n", time.Now().Format(time.DateTime), err)
		}
		fmt.Fprintf(stderr, "%s coverage: %s\n", time.Now().Format(time.DateTime), oneLineSummary(rep))
		t := time.NewTimer(f.watch)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	if last != 0 {
		return &exitError{code: last, msg: fmt.Sprintf("stopped; the last run ended with exit status %d", last)}
	}
	return nil
}

// coverageRunner makes one run: fetch, reconcile, record, update the metrics.
type coverageRunner struct {
	plan   *coverage.Plan
	store  *history.Store
	limits coverage.Thresholds
	stderr io.Writer
	quiet  bool
	exp    *metrics.Exporter
}

// once returns the run's report, and an error when it could not be recorded.
func (c *coverageRunner) once(ctx context.Context) (*coverage.Report, error) {
	if c.exp == nil {
		c.exp = metrics.New()
	}
	opts := coverage.RunOptions{Limits: c.limits}
	if !c.quiet {
		opts.Progress = sourceProgress(c.stderr, isTerminal(c.stderr))
	}
	rep := c.plan.Run(ctx, opts)
	var gaps []metrics.GapAge
	var err error
	if c.store != nil {
		gaps, err = c.record(ctx, rep)
		if err != nil {
			err = fmt.Errorf("the run could not be recorded in the history: %w", err)
		}
	}
	c.exp.Update(rep, gaps)
	return rep, err
}

func (c *coverageRunner) record(ctx context.Context, rep *coverage.Report) ([]metrics.GapAge, error) {
	if _, err := c.store.Record(ctx, rep); err != nil {
		return nil, err
	}
	if keep := c.plan.History.Keep; keep > 0 {
		if _, err := c.store.Prune(ctx, keep); err != nil {
			return nil, err
		}
	}
	trend, err := c.store.Trend(ctx, 90)
	if err != nil {
		return nil, err
	}
	rep.Trend = trend
	d, err := c.store.Drift(ctx, 0)
	if err != nil {
		return nil, err
	}
	gaps := make([]metrics.GapAge, 0, len(d.Open))
	for _, g := range d.Open {
		gaps = append(gaps, metrics.GapAge{Kind: g.Kind, Sources: g.Sources, Age: g.Age})
	}
	return gaps, nil
}

func write(w io.Writer, r *coverage.Report, format string, exp *metrics.Exporter) error {
	switch format {
	case "json":
		return coverage.WriteJSON(w, r)
	case "csv":
		return coverage.WriteCSV(w, r)
	case "prometheus":
		return exp.Write(w)
	case "html":
		return htmlreport.Write(w, r)
	}
	return coverage.WriteTable(w, r)
}

// verdict turns a report's exit code into the command's.
func verdict(r *coverage.Report) error {
	switch r.ExitCode {
	case coverage.ExitCovered:
		return nil
	case coverage.ExitOverLimit:
		parts := make([]string, len(r.Breaches))
		for i, b := range r.Breaches {
			parts[i] = fmt.Sprintf("%s %d > %s", b.Kind, b.Count, b.Limit)
		}
		return &exitError{code: 1, msg: "findings over their limits: " + strings.Join(parts, ", ") + " (allow them with --max KIND=LIMIT)"}
	}
	var down []string
	for _, s := range r.Sources {
		if s.Status != coverage.SourceOK {
			down = append(down, s.Name+": "+s.Reason)
		}
	}
	return &exitError{code: r.ExitCode, msg: "incomplete run: unavailable sources: " + strings.Join(down, "; ") +
		" (fix the source and run again; nothing was reported from partial data)"}
}

func oneLineSummary(r *coverage.Report) string {
	var parts []string
	for _, q := range r.Requirements {
		if q.Skipped == "" {
			parts = append(parts, fmt.Sprintf("R%d %.1f%%", q.Index+1, 100*q.Ratio))
		}
	}
	parts = append(parts, fmt.Sprintf("%d devices", r.Summary.Devices))
	for _, k := range coverage.FindingKinds {
		if n := r.Summary.Findings[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(" (exit %d)", r.ExitCode)
}

// sourceProgress reports each source's advance: one rewritten line on a
// terminal, otherwise one line per source when it finishes.
func sourceProgress(w io.Writer, terminal bool) func(string, int, int) {
	var mu sync.Mutex
	state := map[string]string{}
	var order []string
	finished := 0
	return func(name string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := state[name]; !ok {
			order = append(order, name)
		}
		switch {
		case done < 0:
			state[name] = fmt.Sprintf("%s done (%d)", name, total)
			finished++
			if !terminal {
				fmt.Fprintf(w, "muster: source %s: %d records\n", name, total)
			}
		case total >= 0:
			state[name] = fmt.Sprintf("%s %d/%d", name, done, total)
		default:
			state[name] = fmt.Sprintf("%s %d", name, done)
		}
		if terminal {
			parts := make([]string, len(order))
			for i, n := range order {
				parts[i] = state[n]
			}
			fmt.Fprintf(w, "\r\033[Kreading: %s", strings.Join(parts, " · "))
			if finished == len(order) {
				fmt.Fprint(w, "\r\033[K")
			}
		}
	}
}

func metricsMux(exp *metrics.Exporter) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", exp.Handler())
	return mux
}

type historyFlags struct {
	config, target, output string
	since                  int64
	runs                   int
}

func coverageHistoryCmd() *cobra.Command {
	f := &historyFlags{}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Show coverage drift: gaps opened and closed between runs, how long open gaps have been open, coverage over time",
		Long: `Read the run history that muster coverage records (history: in the config) and
show what changed between the latest run and an earlier one (by default the run
before it): the gaps that opened, those that closed, every gap still open with
its first and last sighting and its age, and each requirement's coverage over
the recorded runs. A gap closes only in a run where every source it rests on
was read in full.`,
		Example: `  muster coverage history --config coverage.yaml
  muster coverage history --history coverage.db --since 12 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd) },
	}
	cmd.SetFlagErrorFunc(flagErrors)
	fs := cmd.Flags()
	fs.StringVarP(&f.config, "config", "c", "", "the coverage config whose history: to read")
	fs.StringVar(&f.target, "history", "", "the history itself: a SQLite file or a postgres:// DSN (instead of --config)")
	fs.StringVarP(&f.output, "output", "o", "table", "table or json")
	fs.Int64Var(&f.since, "since", 0, "compare with this run id (default: the run before the latest)")
	fs.IntVar(&f.runs, "runs", 20, "recorded runs listed (0: all)")
	return cmd
}

func (f *historyFlags) run(cmd *cobra.Command) error {
	if f.output != "table" && f.output != "json" {
		return usageError(fmt.Sprintf("--output %q: use table or json", f.output))
	}
	target := f.target
	switch {
	case target != "" && f.config != "":
		return usageError("give --config or --history, not both")
	case target == "" && f.config == "":
		return usageError("give --config FILE (its history: is read) or --history FILE|DSN")
	case target == "":
		h, err := coverage.LoadHistoryConfig(f.config)
		if err != nil {
			return &exitError{code: 2, msg: err.Error()}
		}
		if h.Path != "" {
			target = h.Path
		} else {
			target = h.DSN
		}
	}
	ctx := cmd.Context()
	store, err := history.Open(ctx, target)
	if err != nil {
		return &exitError{code: 2, msg: "history: " + err.Error()}
	}
	defer store.Close()
	d, err := store.Drift(ctx, f.since)
	if errors.Is(err, history.ErrNoRuns) {
		return &exitError{code: 2, msg: err.Error()}
	}
	if err != nil {
		return &exitError{code: 2, msg: "history: " + err.Error()}
	}
	runs, err := store.Runs(ctx, f.runs)
	if err != nil {
		return &exitError{code: 2, msg: "history: " + err.Error()}
	}
	if f.output == "json" {
		return history.WriteJSON(cmd.OutOrStdout(), d, runs)
	}
	return history.WriteTable(cmd.OutOrStdout(), d, runs)
}
