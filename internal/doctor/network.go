package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// checkURL validates the API URL and fills in the default port.
func (p *probe) checkURL(context.Context) Step {
	raw := p.o.URL
	if !strings.Contains(raw, "://") {
		return fail(fmt.Sprintf("the URL %q has no scheme", raw),
			fmt.Sprintf("write it as --url https://%s (the Wazuh API listens on port 55000 by default)", strings.TrimSuffix(raw, "/")))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fail(fmt.Sprintf("the URL %q cannot be parsed", raw), "write it as --url https://HOST:55000", err.Error())
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fail(fmt.Sprintf("the URL scheme %q is not https or http", u.Scheme), "write it as --url https://HOST:55000")
	}
	if u.Hostname() == "" {
		return fail("the URL has no host", "write it as --url https://HOST:55000")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fail("the URL carries a query, a fragment or a user name", "give only scheme, host and port; the user goes in --user")
	}
	p.u, p.host, p.port = u, u.Hostname(), u.Port()
	ev := []string{fmt.Sprintf("scheme %s, host %s", u.Scheme, p.host)}
	if p.port == "" {
		p.port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
		return warn(fmt.Sprintf("the URL names no port, so port %s is used", p.port),
			fmt.Sprintf("the Wazuh API listens on 55000 by default: try --url %s://%s", u.Scheme, net.JoinHostPort(p.host, "55000")), ev...)
	}
	if u.Scheme == "http" {
		return warn(raw+" uses plain HTTP", "the password and tokens would cross the network unencrypted: enable https in api.yaml and use https://", ev...)
	}
	return ok(fmt.Sprintf("%s (port %s)", raw, p.port), ev...)
}

// dns resolves the host name.
func (p *probe) dns(ctx context.Context) Step {
	if ip := net.ParseIP(p.host); ip != nil {
		p.ips = []net.IP{ip}
		return ok(p.host + " is an IP address: nothing to resolve")
	}
	ctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	res := p.o.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	addrs, err := res.LookupIPAddr(ctx, p.host)
	if err != nil {
		var de *net.DNSError
		switch {
		case errors.As(err, &de) && de.IsNotFound:
			return fail(fmt.Sprintf("the host name %q does not exist in DNS", p.host),
				"check the spelling in --url, the DNS search domain and /etc/hosts, or use the manager's IP address", err.Error())
		case errors.As(err, &de) && de.IsTimeout, ctx.Err() != nil:
			return fail(fmt.Sprintf("no DNS answer for %q within %s", p.host, p.o.Timeout),
				"the DNS server does not answer: check /etc/resolv.conf and the network, or use the manager's IP address", err.Error())
		}
		return fail(fmt.Sprintf("cannot resolve %q", p.host), "check DNS (/etc/resolv.conf) or use the manager's IP address", err.Error())
	}
	if len(addrs) == 0 {
		return fail(fmt.Sprintf("%q resolves to no address", p.host), "check the DNS records of the host, or use its IP address")
	}
	var list []string
	for _, a := range addrs {
		p.ips = append(p.ips, a.IP)
		list = append(list, a.IP.String())
	}
	return ok(fmt.Sprintf("%s resolves to %s", p.host, strings.Join(list, ", ")))
}

// dial opens a TCP connection with the configured dialer.
func (p *probe) dial(ctx context.Context, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	if p.o.Dial != nil {
		return p.o.Dial(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// tcp connects to each resolved address until one accepts.
func (p *probe) tcp(ctx context.Context) Step {
	var tried []string
	var first error
	for _, ip := range p.ips {
		addr := net.JoinHostPort(ip.String(), p.port)
		start := time.Now()
		c, err := p.dial(ctx, addr)
		if err == nil {
			c.Close()
			p.addr = addr
			return ok(fmt.Sprintf("connected to %s in %.1f ms", addr, float64(time.Since(start).Microseconds())/1000), tried...)
		}
		tried = append(tried, fmt.Sprintf("%s: %v", addr, err))
		if first == nil {
			first = err
		}
	}
	target := net.JoinHostPort(p.host, p.port)
	switch {
	case errors.Is(first, syscall.ECONNREFUSED):
		if elsewhere := p.listeningElsewhere(ctx); elsewhere != "" {
			return fail(fmt.Sprintf("nothing listens on %s, but the port is open on %s: the manager is bound to that address only", target, elsewhere),
				fmt.Sprintf("connect with --url %s://%s, or make the API listen on every address: api.yaml host: ['0.0.0.0', '::'] (muster server --api-host 0.0.0.0,::)", p.u.Scheme, elsewhere),
				tried...)
		}
		return fail(fmt.Sprintf("connection refused: nothing listens on %s", target),
			"start the API (Wazuh: systemctl status wazuh-manager; muster: muster server), check the port (api.yaml port, 55000 by default) and the address it binds (api.yaml host); a firewall REJECT rule also answers this way",
			tried...)
	case isTimeout(first):
		return fail(fmt.Sprintf("no answer from %s within %s: the packets are dropped", target, p.o.Timeout),
			"a firewall between here and the manager drops the connection, or the host is down: allow TCP port "+p.port+" to the manager (firewalld, iptables, cloud security groups) and check the host is up; raise --timeout only for slow links",
			tried...)
	case errors.Is(first, syscall.EHOSTUNREACH), errors.Is(first, syscall.ENETUNREACH):
		return fail(fmt.Sprintf("no route to %s", target),
			"this machine has no route to the manager's network: check the VPN, the routing table and the address in --url", tried...)
	}
	return fail(fmt.Sprintf("cannot connect to %s", target), "check the address in --url and the network path to the manager", tried...)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// listeningElsewhere looks for the port on this machine's other addresses
// when the target is local: a manager bound to 127.0.0.1 only, or to one
// interface only. It returns the first address that accepts, or "".
func (p *probe) listeningElsewhere(ctx context.Context) string {
	local := false
	own := localAddrs()
	for _, ip := range p.ips {
		for _, o := range own {
			if ip.Equal(o) {
				local = true
			}
		}
	}
	if !local {
		return ""
	}
	for _, o := range own {
		skip := false
		for _, ip := range p.ips {
			skip = skip || ip.Equal(o)
		}
		if skip || o.IsLinkLocalUnicast() {
			continue
		}
		addr := net.JoinHostPort(o.String(), p.port)
		short, cancel := context.WithTimeout(ctx, time.Second)
		c, err := p.dial(short, addr)
		cancel()
		if err == nil {
			c.Close()
			return addr
		}
	}
	return ""
}

// localAddrs lists this machine's addresses, loopback first.
func localAddrs() []net.IP {
	out := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() {
			out = append(out, n.IP)
		}
	}
	return out
}
