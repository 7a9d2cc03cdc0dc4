package api

import (
	"net/http"
	"time"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// Node is what the manager and cluster endpoints know of the running node.
type Node struct {
	Path     string    // the installation path /manager/info reports: the data directory
	UID      string    // the installation UID (etc/wazuh.uid)
	OssecLog string    // the operational log, in ossec.log's format
	Started  time.Time // when the node's daemons started
	// Running reports whether the muster part standing for a Wazuh daemon
	// runs; nil means only the API does.
	Running func(daemon string) bool
	// Remoted returns the secure channel's counters; false when it is off.
	Remoted func() (RemotedCounters, bool)
	// Base is the configuration an uploaded ossec.conf is layered over
	// (server.yaml and flags); nil means the server's own.
	Base *config.Config
	// Settings returns the settings the daemons run with now (a restart
	// changes them); nil means the server's configuration.
	Settings func() config.Config
	// Restart validates the stored configuration and, when it passes,
	// restarts the daemons with it in the background; an *config.OssecError
	// refuses it. nil: this server cannot restart its daemons.
	Restart func() error
}

// RemotedCounters are the secure channel's counters since it started, in
// the breakdown Wazuh's remoted reports.
type RemotedCounters struct {
	TCPSessions                                       int64
	BytesReceived, BytesSent                          int64
	Keepalives, Startups, Shutdowns, Requests         int64
	Events, Pings, Unknown, Discarded                 int64
	SentAcks, SentCommands, SentShared, SentDiscarded int64
	QueueSize, QueueUsage                             int64
}

// wazuhDaemons are the daemons /manager/status lists, in Wazuh's order.
var wazuhDaemons = []string{"wazuh-agentlessd", "wazuh-analysisd", "wazuh-authd", "wazuh-csyslogd",
	"wazuh-monitord", "wazuh-execd", "wazuh-integratord", "wazuh-logcollector", "wazuh-maild", "wazuh-remoted",
	"wazuh-reportd", "wazuh-syscheckd", "wazuh-clusterd", "wazuh-modulesd", "wazuh-db", "wazuh-apid"}

func managerRoutes() []route {
	read := rbac.Require(rbac.Need("manager:read", "*:*:*"))
	readRestart := rbac.Require(rbac.Need("manager:read", "*:*:*"), rbac.Need("manager:restart", "*:*:*"))
	return []route{
		{http.MethodGet, "/manager/status", bearerAuth, std, framework(getManagerStatus), read},
		{http.MethodGet, "/manager/info", bearerAuth, std, framework(getManagerInfo), read},
		{http.MethodGet, "/manager/configuration", bearerAuth,
			append([]param{pBool("raw"), sectionParam, fieldParam, pBool("distinct")}, std...),
			framework(getManagerConfiguration), read},
		{http.MethodGet, "/manager/configuration/validation", bearerAuth, std, framework(getManagerValidation), read},
		{http.MethodGet, "/manager/configuration/{component}/{configuration}", bearerAuth, std,
			framework(getManagerComponentConfig), read},
		{http.MethodGet, "/manager/daemons/stats", bearerAuth, append([]param{daemonsListParam}, std...),
			framework(getManagerDaemonStats), read},
		{http.MethodGet, "/manager/stats", bearerAuth, append([]param{dateParam}, std...), framework(getManagerStats), read},
		{http.MethodGet, "/manager/stats/hourly", bearerAuth, std, framework(getManagerStatsHourly), read},
		{http.MethodGet, "/manager/stats/weekly", bearerAuth, std, framework(getManagerStatsWeekly), read},
		{http.MethodGet, "/manager/stats/remoted", bearerAuth, std, framework(getManagerStatsRemoted), read},
		{http.MethodGet, "/manager/stats/analysisd", bearerAuth, std, notSupported, read},
		{http.MethodPut, "/manager/analysisd/reload", bearerAuth, std, notSupported, readRestart},
		{http.MethodPut, "/manager/configuration", bearerAuth, std, framework(putManagerConfiguration),
			rbac.Require(rbac.Need("manager:update_config", "*:*:*"))},
		{http.MethodPut, "/manager/restart", bearerAuth, []param{pretty}, framework(putManagerRestart), readRestart},
		{http.MethodGet, "/manager/logs", bearerAuth, logParams(), framework(getManagerLogs), read},
		{http.MethodGet, "/manager/logs/summary", bearerAuth, std, framework(getManagerLogSummary), read},
		{http.MethodGet, "/manager/api/config", bearerAuth, std, framework(getManagerAPIConfig),
			rbac.Require(rbac.Need("manager:read_api_config", "*:*:*"))},
		// No RBAC: Wazuh checks manager:read only to query its update service, which muster never does.
		{http.MethodGet, "/manager/version/check", bearerAuth, []param{pretty, pBool("force_query")},
			framework(getVersionCheck), rbac.Requirement{}},
	}
}

// node returns the node's description with its defaults filled in.
func (s *Server) nodeInfo() Node {
	n := s.node
	if n.Running == nil {
		n.Running = func(d string) bool { return d == "wazuh-apid" }
	}
	if n.Remoted == nil {
		n.Remoted = func() (RemotedCounters, bool) { return RemotedCounters{}, false }
	}
	return n
}

// one is the affected-items envelope of a node-local answer of one item.
func one(item any, msg string) *core.Bulk {
	b := core.NewBulk(msg, "", "")
	b.Add(item)
	return b
}

func getManagerStatus(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	n := c.s.nodeInfo()
	st := make(Object, 0, len(wazuhDaemons))
	for _, d := range wazuhDaemons {
		v := "stopped"
		if n.Running(d) {
			v = "running"
		}
		st = append(st, Field{d, v})
	}
	writeBulk(c.w, c.r, one(st, "Processes status was successfully read"))
	return nil
}

func getManagerInfo(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	n := c.s.nodeInfo()
	now := c.s.now().In(time.Local)
	var uid any
	if n.UID != "" {
		uid = n.UID
	}
	writeBulk(c.w, c.r, one(Object{
		{"path", n.Path}, {"version", "v" + Version}, {"type", "server"}, {"max_agents", "unlimited"},
		{"openssl_support", "yes"}, {"tz_offset", now.Format("-0700")}, {"tz_name", now.Format("MST")},
		{"uuid", uid},
	}, "Basic information was successfully read"))
	return nil
}

// getVersionCheck answers as a manager whose update check is disabled:
// muster never calls home.
func getVersionCheck(c *call) error {
	writeJSON(c.w, c.r, data{Data: Object{
		{"uuid", c.s.nodeInfo().UID}, {"last_check_date", ""}, {"current_version", "v" + Version},
		{"update_check", false}, {"last_available_major", Object{}}, {"last_available_minor", Object{}},
		{"last_available_patch", Object{}},
	}})
	return nil
}
