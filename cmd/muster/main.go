// Command muster is a Wazuh-compatible manager and the client tools that
// scan and diagnose Wazuh APIs. This file holds the subcommand table only.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:   "muster",
		Short: "A Wazuh-compatible manager and a reliable client for the Wazuh server API",
		Long: `muster serves the Wazuh 4.14 server API (port 55000) and, as a client, scans and
diagnoses Wazuh managers (real ones and muster alike).

Start a manager:   muster server
See every option:  muster server --help`,
		Version:       version + " (Wazuh API " + "4.14.7" + ")",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serverCmd())
	root.AddCommand(agentSimCmd())
	root.AddCommand(scanCmd(), doctorCmd())
	root.AddCommand(importCmd())
	root.AddCommand(coverageCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "muster:", err)
		os.Exit(exitCode(err))
	}
}

// exitCoder lets a command choose its exit status.
type exitCoder interface{ ExitCode() int }

func exitCode(err error) int {
	if e, ok := err.(exitCoder); ok {
		return e.ExitCode()
	}
	return 1
}
