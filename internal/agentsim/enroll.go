package agentsim

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

// EnrollOptions describe one enrollment over 1515.
type EnrollOptions struct {
	Addr string // host:port of the enrollment daemon
	// TLS is the client configuration; nil means what an agent does by
	// default: TLS 1.2 or newer without verifying the manager.
	TLS       *tls.Config
	LocalAddr net.Addr
	Timeout   time.Duration // whole exchange; 60 s (the agent's recv_timeout) when zero
}

// Enroll sends one enrollment request and returns the key the manager
// issued, or the *agentproto.EnrollError it answered.
func Enroll(ctx context.Context, o EnrollOptions, req agentproto.EnrollRequest) (agentproto.KeyEntry, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := o.TLS
	if cfg == nil {
		// The agent's default: TLS 1.2 or newer, the manager not verified.
		// One P-256 key share, the cheapest exchange for both ends (Go
		// would add the costlier post-quantum hybrid): the simulator shares
		// its CPUs with the manager it measures.
		cfg = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, // #nosec G402
			CurvePreferences: []tls.CurveID{tls.CurveP256}}
	}
	d := tls.Dialer{NetDialer: &net.Dialer{LocalAddr: o.LocalAddr}, Config: cfg}
	c, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return agentproto.KeyEntry{}, err
	}
	defer c.Close()
	dl, _ := ctx.Deadline()
	c.SetDeadline(dl)
	if _, err := c.Write(req.Format()); err != nil {
		return agentproto.KeyEntry{}, err
	}
	reply, err := agentproto.ReadEnrollReply(c)
	if err != nil && len(reply) == 0 {
		return agentproto.KeyEntry{}, err
	}
	return agentproto.ParseEnrollReply(reply)
}

// ReadKeysFile reads the active entries of a client.keys file; a missing
// file is no entries.
func ReadKeysFile(path string) ([]agentproto.KeyEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all, _, err := agentproto.ReadKeys(f)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, e := range all {
		if !e.Removed() {
			out = append(out, e)
		}
	}
	return out, nil
}

// AppendKeysFile adds entries to a client.keys file (mode 0600).
func AppendKeysFile(path string, entries []agentproto.KeyEntry) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, e := range entries {
		fmt.Fprintln(w, e.String())
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// agentName is the name of the i-th simulated agent.
func agentName(prefix string, i int) string {
	return fmt.Sprintf("%s%05d", strings.TrimSpace(prefix), i+1)
}
