package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/muster-project/muster/client"
)

// Defaults of the connection flags.
const (
	defaultURL     = "https://localhost:55000"
	defaultUser    = "wazuh"
	defaultTimeout = 30 * time.Second
)

// connHelp is the help section every client command shares.
const connHelp = `Connection (flags override the environment):
  --url       MUSTER_URL       API address (default https://localhost:55000)
  --user      MUSTER_USER      API user (default wazuh)
  password    MUSTER_PASSWORD, --password-file FILE (- reads stdin), or --password
              (visible to other local users in the process list: prefer the others).
              Without any of them, muster asks for it on the terminal.
  --ca FILE   trust this CA or self-signed certificate (PEM), e.g. the manager's
              <data-dir>/ssl/server.crt (muster) or api/configuration/ssl/server.crt (Wazuh)
  --cert/--key  client certificate, when the API requires one (api.yaml https.use_ca)
  --insecure  do not verify the certificate (never in production)`

// connFlags are the connection flags shared by every client command.
type connFlags struct {
	url, user, password, passwordFile string
	caFiles                           []string
	cert, key                         string
	insecure                          bool
	timeout                           time.Duration
	verbose                           bool
}

// register adds the flags to fs.
func (c *connFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.url, "url", defaultURL, "API URL (or MUSTER_URL)")
	fs.StringVar(&c.user, "user", defaultUser, "API user (or MUSTER_USER)")
	fs.StringVar(&c.password, "password", "", "API password; visible in the process list, prefer MUSTER_PASSWORD or --password-file")
	fs.StringVar(&c.passwordFile, "password-file", "", "read the API password from the first line of this file (- for stdin)")
	fs.StringSliceVar(&c.caFiles, "ca", nil, "PEM file of the CA or self-signed certificate to trust (repeatable)")
	fs.StringVar(&c.cert, "cert", "", "client certificate (PEM) for managers that require one")
	fs.StringVar(&c.key, "key", "", "key (PEM) of the client certificate")
	fs.BoolVar(&c.insecure, "insecure", false, "do not verify the manager's certificate (dangerous: the password can be intercepted)")
	fs.DurationVar(&c.timeout, "timeout", defaultTimeout, "time limit of each network operation (connect, request, read)")
	fs.BoolVarP(&c.verbose, "verbose", "v", false, "more detail on stderr (logins, retries)")
}

// resolve applies the environment to flags left unset and reads the password.
// needPassword makes a missing password an error.
func (c *connFlags) resolve(cmd *cobra.Command, needPassword bool) error {
	fs := cmd.Flags()
	env := func(flag, name string, dst *string) {
		if v := os.Getenv(name); v != "" && !fs.Changed(flag) {
			*dst = v
		}
	}
	env("url", "MUSTER_URL", &c.url)
	env("user", "MUSTER_USER", &c.user)
	if (c.cert == "") != (c.key == "") {
		return usageError("--cert and --key go together: give both")
	}
	if c.timeout <= 0 {
		return usageError("--timeout must be positive, e.g. 30s")
	}
	switch {
	case fs.Changed("password"):
		fmt.Fprintln(cmd.ErrOrStderr(), "muster: warning: --password is visible to other users in the process list; prefer MUSTER_PASSWORD or --password-file")
	case c.passwordFile != "":
		pw, err := readPasswordFile(c.passwordFile, cmd.InOrStdin())
		if err != nil {
			return usageError(err.Error())
		}
		c.password = pw
	default:
		c.password = os.Getenv("MUSTER_PASSWORD")
	}
	if c.password == "" && needPassword {
		pw, err := promptPassword(cmd, c.user, c.url)
		if err != nil {
			return err
		}
		c.password = pw
	}
	if c.insecure {
		fmt.Fprintln(cmd.ErrOrStderr(), "muster: WARNING: --insecure: the manager's TLS certificate is NOT verified; anyone on the network path can impersonate it and read the password and tokens. Trust its certificate with --ca FILE instead.")
	}
	return nil
}

// promptPassword asks for the password on the terminal, without echo. With
// no terminal (a script, CI) it says how to give one instead.
func promptPassword(cmd *cobra.Command, user, url string) (string, error) {
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return "", usageError("no password for user " + user + ": set MUSTER_PASSWORD or give --password-file FILE")
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Password for %s at %s: ", user, url)
	pw, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(cmd.ErrOrStderr())
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if len(pw) == 0 {
		return "", usageError("empty password for user " + user)
	}
	return string(pw), nil
}

// readPasswordFile returns the first line of file ("-" reads in).
func readPasswordFile(file string, in io.Reader) (string, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(in, 4096))
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", fmt.Errorf("--password-file %s: the first line is empty", file)
	}
	return line, nil
}

// logger writes the SDK's diagnostics to stderr: warnings, and with -v the logins too.
func (c *connFlags) logger(w io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if c.verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
}

// options are the SDK options the flags ask for.
func (c *connFlags) options(stderr io.Writer) []client.Option {
	opts := []client.Option{client.WithCredentials(c.user, c.password), client.WithTimeout(c.timeout),
		client.WithLogger(c.logger(stderr)), client.WithUserAgent("muster/" + version)}
	for _, f := range c.caFiles {
		opts = append(opts, client.WithCAFile(f))
	}
	if c.cert != "" {
		opts = append(opts, client.WithClientCert(c.cert, c.key))
	}
	if c.insecure {
		opts = append(opts, client.WithInsecure())
	}
	return opts
}

// newClient builds the SDK client; extra options come last (tests).
func (c *connFlags) newClient(stderr io.Writer, extra ...client.Option) (*client.Client, error) {
	cl, err := client.New(c.url, append(c.options(stderr), extra...)...)
	if err != nil {
		return nil, usageError(err.Error())
	}
	return cl, nil
}

// exitError ends a command with a chosen exit status.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// ExitCode is the process exit status.
func (e *exitError) ExitCode() int { return e.code }

// usageError is a problem with the command line: exit status 2, like a failed scan.
func usageError(msg string) error { return &exitError{code: 2, msg: msg} }

// flagErrors turns flag parsing errors into usage errors with exit status 2.
func flagErrors(cmd *cobra.Command, err error) error {
	return usageError(err.Error() + "; see " + cmd.CommandPath() + " --help")
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
