package agentsim

import (
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

// keepaliveTick sends one keepalive and arms the next. A manager silent for
// longer than time-reconnect (60 s, at least 3 notify periods) makes the
// agent reconnect, as agentd does.
func (a *Agent) keepaliveTick() {
	a.wmu.Lock()
	c := a.conn
	a.wmu.Unlock()
	if c == nil {
		return
	}
	reconnect := max(60*time.Second, 3*a.o.NotifyTime)
	if a.o.TimeReconnect > 0 {
		reconnect = max(a.o.TimeReconnect, 3*a.o.NotifyTime)
	}
	if time.Since(time.Unix(0, a.heard.Load())) > reconnect {
		a.disconnect()
		return
	}
	body := a.keepalive(c.LocalAddr()).Format()
	a.sentAt.Store(time.Now().UnixNano())
	if err := a.send(body); err != nil {
		a.disconnect()
		return
	}
	a.o.Stats.Keepalives.Add(1)
	a.keepaliveLater(c)
}

// keepaliveLater runs keepaliveTick after notify_time if c is still the
// agent's connection.
func (a *Agent) keepaliveLater(c net.Conn) {
	time.AfterFunc(a.o.NotifyTime, func() {
		a.wmu.Lock()
		same := a.conn == c
		a.wmu.Unlock()
		if same {
			a.keepaliveTick()
		}
	})
}

// keepalive builds the agent's keepalive: its host (Debian 12 unless Uname
// says otherwise) running the configured Wazuh version, with its labels and
// the sums of what it applied.
func (a *Agent) keepalive(local net.Addr) agentproto.Keepalive {
	uname := a.o.Uname
	if uname == "" {
		uname = defaultOS.Uname(a.Entry.Name)
	}
	k := agentproto.Keepalive{
		Uname:     uname,
		Version:   "Wazuh " + a.o.Version,
		MergedSum: a.MergedSum(),
		Labels:    a.o.Labels,
	}
	if p := a.configSum.Load(); p != nil {
		k.ConfigSum = *p
	}
	if ap, err := netip.ParseAddrPort(local.String()); err == nil {
		k.AgentIP = agentproto.SourceIP(ap.Addr())
	}
	return k
}

// isRestart reports whether an execd command is the restart Wazuh's API sends.
func isRestart(cmd string) bool {
	return strings.Contains(cmd, "restart-wazuh") || strings.Contains(cmd, "restart-ossec")
}
