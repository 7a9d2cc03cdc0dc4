package api

import (
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/groupfs"
	"go.yaml.in/yaml/v3"
)

// ossecSections is the section parameter's enum in Wazuh's document.
var ossecSections = []string{"active-response", "agentless", "alerts", "auth", "client", "client_buffer",
	"cluster", "command", "email_alerts", "global", "integration", "labels", "localfile", "logging", "remote",
	"reports", "rootcheck", "ruleset", "sca", "socket", "syscheck", "syslog_output", "vulnerability-detection",
	"indexer", "aws-s3", "azure-logs", "cis-cat", "docker-listener", "open-scap", "osquery", "syscollector"}

var (
	sectionParam = param{name: "section", kind: kString, enum: ossecSections}
	fieldParam   = pString("field", "names", reNames)
)

// enumError is connexion's 400 for a value outside a parameter's enum.
func enumError(name, v string, enum []string) error {
	return core.BadRequest("'" + v + "' is not one of " + pyList(enum) + " - '" + name + "'")
}

// pyList writes strings as Python prints a list of them.
func pyList(items []string) string {
	return "['" + strings.Join(items, "', '") + "']"
}

// lastParam is a validated string parameter: its last value, as validated.
func lastParam(q url.Values, name string) string {
	if v := q[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// ossecConf is the node's configuration as ossec.conf: what the next
// restart applies (the base with the stored ossec.conf), with the stored
// file's other sections as stored. A stored file that is not XML is 1113.
func (s *Server) ossecConf() (string, error) {
	cfg, f, err := s.storedConf()
	if err != nil {
		return "", ossecErr(err, true)
	}
	return cfg.OssecConfStored(s.clusterEnabled(), f), nil
}

// clusterEnabled says whether the node answers as a cluster member: it
// joined the cluster of its PostgreSQL store (JoinCluster). On SQLite it
// is a standalone manager whose cluster is disabled.
func (s *Server) clusterEnabled() bool { return s.clusterNode() != nil }

// managerID names this node in the items of the manager endpoints: a
// standalone Wazuh manager is "manager" there, a cluster node its name.
func (c *call) managerID() string {
	if !c.s.clusterEnabled() {
		return "manager"
	}
	return c.s.cfg.Manager.NodeName
}

// getManagerConfiguration is GET /manager/configuration: the ossec.conf
// sections of muster's settings, whole (raw), or one section or field.
func getManagerConfiguration(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	conf, err := c.s.ossecConf()
	if err != nil {
		return err
	}
	if boolParam(c.q, "raw") {
		c.w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		c.w.Header().Set("Content-Length", strconv.Itoa(len(conf)))
		c.w.WriteHeader(http.StatusOK)
		c.w.Write([]byte(conf))
		return nil
	}
	b := core.NewBulk("Configuration was successfully read", "Could not read configuration in some nodes",
		"Could not read configuration")
	obj, err := groupfs.OssecConfToJSON([]byte(conf))
	if err != nil {
		return core.Internal(err)
	}
	section, field := lastParam(c.q, "section"), lastParam(c.q, "field")
	if out, err := selectConf(obj, section, field); err != nil {
		b.Fail(err, c.managerID())
	} else {
		b.Add(out)
	}
	writeBulk(c.w, c.r, b)
	return nil
}

// selectConf keeps one section, or one field of it, as Wazuh's
// get_ossec_conf does; a field of a list section is taken from each item.
func selectConf(obj groupfs.Obj, section, field string) (groupfs.Obj, *core.Error) {
	if section == "" {
		return obj, nil
	}
	sec, ok := obj.Get(section)
	if !ok {
		return nil, core.Ef(1106, "%s", section)
	}
	if field == "" {
		return groupfs.Obj{{Key: section, Value: sec}}, nil
	}
	switch v := sec.(type) {
	case []any:
		items := make([]any, 0, len(v))
		for _, it := range v {
			o, _ := it.(groupfs.Obj)
			f, ok := o.Get(field)
			if !ok {
				return nil, core.E(1103)
			}
			items = append(items, groupfs.Obj{{Key: field, Value: f}})
		}
		return groupfs.Obj{{Key: section, Value: items}}, nil
	case groupfs.Obj:
		f, ok := v.Get(field)
		if !ok {
			return nil, core.E(1103)
		}
		return groupfs.Obj{{Key: section, Value: groupfs.Obj{{Key: field, Value: f}}}}, nil
	}
	return nil, core.E(1103)
}

// getManagerValidation is GET /manager/configuration/validation: the
// configuration a restart would apply (the stored ossec.conf over the
// base) is checked as the restart checks it.
func getManagerValidation(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	b := core.NewBulk("Validation was successfully checked", "Could not check validation in some nodes",
		"Could not check validation")
	if e := c.s.checkStored(); e != nil {
		b.Fail(e, c.managerID())
	} else {
		b.Add(Object{{"name", c.managerID()}, {"status", "OK"}})
	}
	writeBulk(c.w, c.r, b)
	return nil
}

// getManagerAPIConfig is GET /manager/api/config: api.yaml in force, with
// the TLS file names resolved as the API uses them.
func getManagerAPIConfig(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	b := core.NewBulk("API configuration was successfully read", "Not all API configurations could be read",
		"Could not read API configuration")
	b.Add(Object{{"node_name", c.managerID()}, {"node_api_config", apiConfObject(c.s.cfg.API, c.s.nodeInfo().Path)}})
	writeBulk(c.w, c.r, b)
	return nil
}

func apiConfObject(a config.API, dataDir string) Object {
	ssl := func(name string) string {
		if filepath.IsAbs(name) || dataDir == "" {
			return name
		}
		return filepath.Join(dataDir, "ssl", name)
	}
	return Object{
		{"host", []string(a.Host)}, {"port", a.Port}, {"drop_privileges", bool(a.DropPrivileges)},
		{"experimental_features", bool(a.ExperimentalFeatures)}, {"max_upload_size", a.MaxUploadSize},
		{"authentication_pool_size", a.AuthenticationPoolSize},
		{"intervals", Object{{"request_timeout", pyNumber(a.Intervals.RequestTimeout)}}},
		{"https", Object{{"enabled", bool(a.HTTPS.Enabled)}, {"key", ssl(a.HTTPS.Key)}, {"cert", ssl(a.HTTPS.Cert)},
			{"use_ca", bool(a.HTTPS.UseCA)}, {"ca", ssl(a.HTTPS.CA)}, {"ssl_protocol", a.HTTPS.SSLProtocol},
			{"ssl_ciphers", a.HTTPS.SSLCiphers}}},
		{"logs", Object{{"level", a.Logs.Level}, {"format", a.Logs.Format},
			{"max_size", Object{{"enabled", bool(a.Logs.MaxSize.Enabled)}, {"size", a.Logs.MaxSize.Size}}}}},
		{"cors", Object{{"enabled", bool(a.CORS.Enabled)}, {"source_route", a.CORS.SourceRoute},
			{"expose_headers", listOrOne(a.CORS.ExposeHeaders)}, {"allow_headers", listOrOne(a.CORS.AllowHeaders)},
			{"allow_credentials", bool(a.CORS.AllowCredentials)}}},
		{"access", Object{{"max_login_attempts", a.Access.MaxLoginAttempts}, {"block_time", a.Access.BlockTime},
			{"max_request_per_minute", a.Access.MaxRequestPerMinute}}},
		{"upload_configuration", uploadConfiguration(a.UploadConfiguration)},
	}
}

// pyNumber writes a whole float as an integer, as api.yaml's 10 reads back.
func pyNumber(f float64) any {
	if f == float64(int64(f)) {
		return int64(f)
	}
	return f
}

// listOrOne gives a one-value list as the string api.yaml holds ("*").
func listOrOne(v []string) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

// defaultUploadConfiguration is Wazuh 4.14's upload_configuration default.
func defaultUploadConfiguration() map[string]any {
	allow := func() map[string]any { return map[string]any{"allow": true, "exceptions": []any{}} }
	return map[string]any{
		"remote_commands": map[string]any{"localfile": allow(), "wodle_command": allow()},
		"limits":          map[string]any{"eps": map[string]any{"allow": true}},
		"agents":          map[string]any{"allow_higher_versions": map[string]any{"allow": true}},
		"indexer":         map[string]any{"allow": true},
		"integrations": map[string]any{"virustotal": map[string]any{
			"public_key": map[string]any{"allow": true, "minimum_quota": 240}}},
	}
}

// uploadConfiguration fills api.yaml's upload_configuration over the
// defaults, key by key, as Wazuh's fill_dict does.
func uploadConfiguration(n yaml.Node) Object {
	out := defaultUploadConfiguration()
	var set map[string]any
	if n.Kind != 0 && n.Decode(&set) == nil {
		fillOver(out, set)
	}
	return sortedObject(out)
}

func fillOver(dst, src map[string]any) {
	for k, v := range src {
		if sub, ok := v.(map[string]any); ok {
			if d, ok := dst[k].(map[string]any); ok {
				fillOver(d, sub)
				continue
			}
		}
		dst[k] = v
	}
}

// uploadOrder is the order of upload_configuration's keys in Wazuh's default.
var uploadOrder = []string{"remote_commands", "localfile", "wodle_command", "allow", "exceptions", "limits", "eps",
	"agents", "allow_higher_versions", "indexer", "integrations", "virustotal", "public_key", "minimum_quota"}

// sortedObject turns nested maps into Objects in Wazuh's key order, unknown
// keys last by name.
func sortedObject(m map[string]any) Object {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index(uploadOrder, k); i >= 0 {
			return i
		}
		return len(uploadOrder)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if a < b {
			return -1
		}
		return 1
	})
	out := make(Object, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		if sub, ok := v.(map[string]any); ok {
			v = sortedObject(sub)
		}
		out = append(out, Field{k, v})
	}
	return out
}

// componentConfigs are the component/configuration pairs Wazuh's API
// accepts, in the order its document lists the components.
var componentConfigs = []struct {
	name    string
	configs []string
}{
	{"agent", []string{"client", "buffer", "labels", "internal", "anti_tampering"}}, {"agentless", []string{"agentless"}},
	{"analysis", []string{"global", "active_response", "alerts", "command", "rules", "decoders", "internal", "rule_test"}},
	{"auth", []string{"auth"}}, {"com", []string{"active-response", "logging", "internal", "cluster"}},
	{"csyslog", []string{"csyslog"}}, {"integrator", []string{"integration"}},
	{"logcollector", []string{"localfile", "socket", "internal"}}, {"mail", []string{"global", "alerts", "internal"}},
	{"monitor", []string{"global", "internal", "reports"}}, {"request", []string{"global", "remote", "internal"}},
	{"syscheck", []string{"syscheck", "rootcheck", "internal"}}, {"wazuh-db", []string{"wdb", "internal"}},
	{"wmodules", []string{"wmodules"}},
}

// checkComponentPair checks a component and configuration as Wazuh's
// controllers do, before RBAC: the component's enum, the configuration's
// (confEnum, when the route declares one), then the pair (1128).
func checkComponentPair(comp, conf string, confEnum []string) error {
	var names, configs []string
	for _, cc := range componentConfigs {
		names = append(names, cc.name)
		if cc.name == comp {
			configs = cc.configs
		}
	}
	switch {
	case configs == nil:
		return enumError("component", comp, names)
	case confEnum != nil && !slices.Contains(confEnum, conf):
		return enumError("configuration", conf, confEnum)
	case !slices.Contains(configs, conf):
		e := core.Ef(1128, "Valid configuration values for '%s': {'%s'}", comp, strings.Join(configs, "', '"))
		e.Local = true
		return e
	}
	return nil
}

// getManagerComponentConfig is GET /manager/configuration/{component}/
// {configuration}: the active configuration of a daemon, as its socket
// would answer. muster's daemons give theirs; the analysis engine's have
// no socket to ask (Wazuh's failed item for a daemon that is not running).
func getManagerComponentConfig(c *call) error {
	comp, conf := chi.URLParam(c.r, "component"), chi.URLParam(c.r, "configuration")
	if err := checkComponentPair(comp, conf, nil); err != nil {
		return err
	}
	if err := c.requireResourceless(); err != nil {
		return err
	}
	b := core.NewBulk("Active configuration was successfully read", "Could not read active configuration in some nodes",
		"Could not read active configuration")
	if v, ok := c.s.activeConfig(comp, conf); ok {
		b.Add(v)
	} else {
		b.Fail(core.Ef(1121, "%s", "WAZUH_PATH/queue/sockets/"+socketOf(comp)), c.managerID())
	}
	writeBulk(c.w, c.r, b)
	return nil
}

func socketOf(component string) string {
	switch component {
	case "request":
		return "remote"
	case "wazuh-db":
		return "wdb"
	}
	return component
}

// activeConfig renders what muster's daemons report for a component's
// configuration; false when no running part of muster has it.
func (s *Server) activeConfig(comp, conf string) (Object, bool) {
	n := s.nodeInfo()
	c := s.settings()
	switch {
	case comp == "request" && conf == "remote" && n.Running("wazuh-remoted"):
		r := c.Remote
		return Object{{"remote", []any{Object{{"connection", "secure"}, {"ipv6", yesNo(bool(r.IPv6))},
			{"protocol", []string(r.Protocol)}, {"port", strconv.Itoa(r.Port)}, {"queue_size", "131072"}}}}}, true
	case comp == "request" && conf == "global" && n.Running("wazuh-remoted"):
		return Object{{"global", Object{{"agents_disconnection_time", c.Manager.AgentsDisconnectionTime},
			{"agents_disconnection_alert_time", 0}}}}, true
	case comp == "auth" && conf == "auth" && n.Running("wazuh-authd"):
		a := c.Auth
		return Object{{"auth", Object{{"disabled", yesNo(bool(a.Disabled))}, {"port", a.Port},
			{"use_source_ip", yesNo(bool(a.UseSourceIP))}, {"purge", yesNo(bool(a.Purge))},
			{"use_password", yesNo(bool(a.UsePassword))}, {"ciphers", a.Ciphers},
			{"ssl_verify_host", yesNo(bool(a.SSLVerifyHost))}, {"ssl_manager_cert", a.SSLManagerCert},
			{"ssl_manager_key", a.SSLManagerKey}, {"ssl_auto_negotiate", yesNo(bool(a.SSLAutoNegotiate))}}}}, true
	case comp == "com" && conf == "cluster":
		return Object{{"cluster", Object{{"name", "wazuh"}, {"node_name", c.Manager.NodeName},
			{"node_type", s.nodeType()}, {"disabled", yesNo(!s.clusterEnabled())}}}}, true
	case comp == "com" && conf == "logging":
		return Object{{"logging", Object{{"plain", "yes"}, {"json", "no"}}}}, true
	}
	return nil, false
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
