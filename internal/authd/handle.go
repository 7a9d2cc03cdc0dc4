package authd

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/core"
)

// prefixConn replays bytes already read from a connection.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// handle serves one connection: TLS handshake, one request, one reply.
func (s *Server) handle(c net.Conn) {
	src := sourceIP(c.RemoteAddr())
	ctx, cancel := context.WithTimeout(s.ctx, s.o.Timeout)
	defer cancel()
	end := time.Now().Add(s.o.Timeout)
	hsDeadline := func() time.Time {
		if d := time.Now().Add(s.o.HandshakeTimeout); d.Before(end) {
			return d
		}
		return end
	}
	c.SetDeadline(hsDeadline())
	// A handshake slot is taken only once the client has sent something, so
	// idle connections cannot hold every slot and starve real agents; a
	// client silent for HandshakeTimeout is let go.
	first := make([]byte, 1)
	if _, err := io.ReadFull(c, first); err != nil {
		return
	}
	hsEnd := hsDeadline()
	c.SetDeadline(hsEnd)
	hctx, hcancel := context.WithDeadline(ctx, hsEnd)
	defer hcancel()
	tc := tls.Server(&prefixConn{Conn: c, prefix: first}, s.o.TLS)
	select {
	case s.hs <- struct{}{}:
	case <-hctx.Done():
		return
	}
	err := tc.HandshakeContext(hctx)
	<-s.hs
	c.SetDeadline(end)
	if err != nil {
		s.warn("authd: TLS handshake failed", "src", src, "err", err)
		return
	}
	if s.o.VerifyHost {
		if err := verifyHost(tc, src); err != nil {
			s.warn("authd: agent certificate does not match its address", "src", src, "err", err)
			return
		}
	}
	line, err := agentproto.ReadEnrollRequest(tc)
	if err != nil {
		s.warn("authd: no enrollment request received", "src", src, "err", err)
		return
	}
	reply, entry, ok := s.process(ctx, line, src)
	if ok && s.o.OnEnroll != nil {
		s.o.OnEnroll(entry)
	}
	if _, err := tc.Write(reply); err != nil {
		s.warn("authd: cannot send the reply", "src", src, "err", err)
		if ok {
			if err := s.o.Registry.RemoveEnrolled(context.WithoutCancel(ctx), entry.ID); err != nil {
				s.log.Error("authd: cannot remove the undelivered key", "agent", core.FormatAgentID(entry.ID), "err", err)
			}
		}
		return
	}
	tc.CloseWrite()
}

// process answers a request line: the reply to send and, on success, the
// entry issued.
func (s *Server) process(ctx context.Context, line []byte, src string) ([]byte, core.KeyEntry, bool) {
	req, err := agentproto.ParseEnrollRequest(line, agentproto.EnrollOptions{Password: s.o.Password,
		ManagerVersion: s.o.ManagerVersion, AllowHigherVersions: s.o.AllowHigherVersions})
	if err != nil {
		return s.refuse(err, src, "")
	}
	ip := req.RegistrationIP(src, s.o.UseSourceIP)
	if e := agentproto.ValidateGroups(req.Groups, s.o.Registry.GroupExists); e != nil {
		return s.refuse(e, src, req.Name)
	}
	if s.o.Hostname != "" && req.Name == s.o.Hostname {
		return s.refuse(agentproto.RefuseInvalidName(req.Name), src, req.Name)
	}
	entry, err := s.o.Registry.EnrollRemote(ctx, core.RemoteEnrollment{Name: req.Name, IP: ip, Groups: req.Groups,
		KeyHash: req.KeyHash, Force: s.o.Force, KeyMismatch: s.o.KeyMismatch})
	if err != nil {
		var ce *core.Error
		switch {
		case errors.As(err, &ce) && ce.Code == 1705:
			return s.refuse(agentproto.RefuseDuplicateName(req.Name), src, req.Name)
		case errors.As(err, &ce) && ce.Code == 1706:
			return s.refuse(agentproto.RefuseDuplicateIP(ip), src, req.Name)
		}
		s.log.Error("authd: enrollment failed", "name", req.Name, "src", src, "err", err)
		return s.refuse(agentproto.RefuseInternal(req.Name), src, req.Name)
	}
	s.Enrolled.Add(1)
	id := core.FormatAgentID(entry.ID)
	s.log.Info("authd: agent key generated", "agent", id, "name", entry.Name, "ip", entry.IP, "src", src)
	reply := agentproto.FormatEnrollSuccess(agentproto.KeyEntry{ID: id, Name: entry.Name, IP: entry.IP, Key: entry.Key})
	return reply, entry, true
}

// refuse logs a refusal (never the password) and returns its reply.
func (s *Server) refuse(err error, src, name string) ([]byte, core.KeyEntry, bool) {
	s.Refused.Add(1)
	var ee *agentproto.EnrollError
	if !errors.As(err, &ee) {
		ee = &agentproto.EnrollError{Reason: agentproto.ReasonInvalidRequest}
	}
	s.warn("authd: enrollment refused", "src", src, "name", name, "reason", ee.Reason)
	return ee.Reply(), core.KeyEntry{}, false
}

// sourceIP turns a peer address into the text authd writes ("any"-free):
// dotted IPv4, or expanded upper-case IPv6.
func sourceIP(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return a.String()
	}
	return agentproto.SourceIP(ap.Addr())
}

// verifyHost checks the agent certificate against its source address.
func verifyHost(tc *tls.Conn, src string) error {
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return errors.New("no agent certificate")
	}
	ap, err := netip.ParseAddrPort(tc.RemoteAddr().String())
	if err != nil {
		return err
	}
	return certs[0].VerifyHostname(ap.Addr().Unmap().String())
}
