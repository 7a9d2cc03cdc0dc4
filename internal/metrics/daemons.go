package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/muster-project/muster/internal/authd"
	"github.com/muster-project/muster/internal/remoted"
)

// Daemons are the agent daemons running now; a nil field is a daemon that
// is disabled or down (during PUT /manager/restart).
type Daemons struct {
	Remote *remoted.Server
	Auth   *authd.Server
}

// DaemonCollector reads remoted's and authd's own counters at scrape
// time, so nothing is counted twice. The daemons are replaced by every
// PUT /manager/restart, and their counters start again from zero then,
// which Prometheus reads as a counter reset.
type DaemonCollector struct {
	node    string
	current func() Daemons
	descs   []*prometheus.Desc
}

var (
	descUp = prometheus.NewDesc("muster_daemon_up",
		"1 when the daemon runs and holds its listeners, else 0.", []string{"node", "daemon"}, nil)
	descConnected = prometheus.NewDesc("muster_remoted_connected_agents",
		"Agents heard from within agents_disconnection_time, by the transport of their reply path.",
		[]string{"node", "protocol"}, nil)
	descTCPConns = prometheus.NewDesc("muster_remoted_tcp_connections",
		"Open TCP connections to the agent port.", []string{"node"}, nil)
	descMessages = prometheus.NewDesc("muster_remoted_messages_total",
		"Valid messages received from agents.", []string{"node"}, nil)
	descKeepalives = prometheus.NewDesc("muster_remoted_keepalives_total",
		"Keepalives received from agents.", []string{"node"}, nil)
	descDropped = prometheus.NewDesc("muster_remoted_dropped_total",
		"Messages or connections dropped as invalid or over a connection cap.", []string{"node"}, nil)
	descPushes = prometheus.NewDesc("muster_remoted_shared_pushes_total",
		"Shared-file (merged.mg) transfers sent to agents.", []string{"node"}, nil)
	descBytesIn = prometheus.NewDesc("muster_remoted_received_bytes_total",
		"Bytes received from agents, frames included.", []string{"node"}, nil)
	descBytesOut = prometheus.NewDesc("muster_remoted_sent_bytes_total",
		"Bytes sent to agents, frames included.", []string{"node"}, nil)
	descEnrollments = prometheus.NewDesc("muster_authd_enrollments_total",
		"Enrollment requests on the authd port, by outcome.", []string{"node", "result"}, nil)
	descAuthRefusedConns = prometheus.NewDesc("muster_authd_refused_connections_total",
		"Enrollment connections closed for the per-address cap.", []string{"node"}, nil)
)

// NewDaemonCollector returns a collector over the daemons current returns.
func NewDaemonCollector(node string, current func() Daemons) *DaemonCollector {
	return &DaemonCollector{node: node, current: current, descs: []*prometheus.Desc{descUp, descConnected,
		descTCPConns, descMessages, descKeepalives, descDropped, descPushes, descBytesIn, descBytesOut,
		descEnrollments, descAuthRefusedConns}}
}

// Describe implements prometheus.Collector.
func (c *DaemonCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A daemon that is not running
// reports only its muster_daemon_up of 0.
func (c *DaemonCollector) Collect(ch chan<- prometheus.Metric) {
	d := c.current()
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, append([]string{c.node}, labels...)...)
	}
	counter := func(desc *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), append([]string{c.node}, labels...)...)
	}
	up := func(ok bool) float64 {
		if ok {
			return 1
		}
		return 0
	}
	gauge(descUp, up(d.Remote != nil && d.Remote.Listening() > 0), "remoted")
	gauge(descUp, up(d.Auth != nil && d.Auth.Listening() > 0), "authd")
	if r := d.Remote; r != nil {
		tcp, udp := r.ConnectedAgents()
		gauge(descConnected, float64(tcp), "tcp")
		gauge(descConnected, float64(udp), "udp")
		st := r.Stats()
		gauge(descTCPConns, float64(st.Connections.Load()))
		counter(descMessages, st.Messages.Load())
		counter(descKeepalives, st.Keepalives.Load())
		counter(descDropped, st.Dropped.Load())
		counter(descPushes, st.Pushes.Load())
		counter(descBytesIn, st.BytesReceived.Load())
		counter(descBytesOut, st.BytesSent.Load())
	}
	if a := d.Auth; a != nil {
		counter(descEnrollments, a.Enrolled.Load(), "accepted")
		counter(descEnrollments, a.Refused.Load(), "refused")
		counter(descAuthRefusedConns, a.RefusedConns.Load())
	}
}
