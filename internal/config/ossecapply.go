package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Messages of Wazuh's configuration readers, which an invalid ossec.conf
// gets in the 1908 answer.
const configErr = "(1202): Configuration error at '" + StoredOssecConf + "'."

func invElem(tag string) string {
	return fmt.Sprintf("(1230): Invalid element in the configuration: '%s'.", tag)
}
func valueErr(tag, v string) string {
	return fmt.Sprintf("(1235): Invalid value for element '%s': %s.", tag, v)
}

// ossecSections are the top-level sections Wazuh's manager reads.
var ossecSections = []string{"global", "ruleset", "syscheck", "rootcheck", "alerts", "email_alerts",
	"database_output", "syslog_output", "agentless", "localfile", "remote", "client", "anti_tampering",
	"client_buffer", "command", "integration", "active-response", "wodle", "labels", "logging", "cluster",
	"socket", "sca", "vulnerability-detection", "vulnerability-detector", "indexer", "gcp-pubsub", "gcp-bucket",
	"rule_test", "agent-upgrade", "task-manager", "wdb", "fluent-forward", "auth", "reports", "agent-key-polling",
	"github", "office365", "ms-graph", "osquery", "open-scap", "cis-cat", "docker-listener", "aws-s3",
	"azure-logs", "syscollector"}

// Elements of the sections muster maps that it accepts without using
// (Wazuh's readers know them; muster has nothing they configure).
var (
	authKnown = []string{"disabled", "port", "ipv6", "use_source_ip", "force_insert", "force_time", "force",
		"purge", "use_password", "limit_maxagents", "ciphers", "ssl_agent_ca", "ssl_verify_host",
		"ssl_manager_cert", "ssl_manager_key", "ssl_auto_negotiate", "remote_enrollment", "agents", "key_request"}
	remoteKnown = []string{"connection", "port", "protocol", "ipv6", "local_ip", "allowed-ips", "denied-ips",
		"queue_size", "rids_closing_time", "connection_overtake_time", "agents"}
)

// Apply returns base with the settings of the file that muster uses set
// from it; an element the file does not have keeps base's value. The
// checks are those of Wazuh's readers for these sections, in the order
// its configuration check runs them (authd, then remoted, then the rest),
// and as there the first error stops the check: the *OssecError holds its
// message and the closing "Configuration error" line.
func (f *OssecFile) Apply(base Config) (Config, error) {
	c := base
	c.Remote.Protocol = slices.Clone(base.Remote.Protocol)
	fail := func(msg string) (Config, error) {
		return base, &OssecError{Messages: []string{msg, configErr}}
	}
	for _, s := range f.Sections {
		if !slices.Contains(ossecSections, s.Tag) {
			return fail(invElem(s.Tag))
		}
	}
	for _, s := range f.sections("auth") {
		if msg := applyAuth(&c.Auth, s); msg != "" {
			return fail(msg)
		}
	}
	secure := 0
	for _, s := range f.sections("remote") {
		conn := s.Kid("connection")
		if conn == nil {
			return fail("(1201): No remote connection configured.")
		}
		if conn.Text != "secure" && conn.Text != "syslog" {
			return fail(valueErr("connection", conn.Text))
		}
		r := &c.Remote
		if conn.Text == "syslog" {
			r = &Remote{} // checked, not used: muster has no syslog listener
		} else if secure++; secure > 1 {
			return fail("(1244): Can't add more than one secure connection.")
		}
		if msg := applyRemote(r, s); msg != "" {
			return fail(msg)
		}
	}
	for _, s := range f.sections("global") {
		if k := s.Kid("agents_disconnection_time"); k != nil {
			v := wParseTime(k.Text)
			if v < 1 {
				return fail(valueErr(k.Tag, k.Text))
			}
			c.Manager.AgentsDisconnectionTime = int(v)
		}
	}
	for _, s := range f.sections("cluster") {
		if k := s.Kid("node_name"); k != nil {
			if k.Text == "" {
				return fail(valueErr(k.Tag, k.Text))
			}
			c.Manager.NodeName = k.Text
		}
		if k := s.Kid("disabled"); k != nil && k.Text != "yes" && k.Text != "no" {
			return fail(valueErr(k.Tag, k.Text))
		}
	}
	for _, s := range f.sections("logging") {
		if k := s.Kid("log_format"); k != nil {
			if !slices.Contains(logFormats, strings.ReplaceAll(k.Text, " ", "")) {
				return fail(valueErr(k.Tag, k.Text))
			}
		}
	}
	if err := c.Validate(); err != nil {
		return fail(err.Error())
	}
	return c, nil
}

func (f *OssecFile) sections(tag string) []*XMLNode {
	var out []*XMLNode
	for _, s := range f.Sections {
		if s.Tag == tag {
			out = append(out, s)
		}
	}
	return out
}

// yesNo reads Wazuh's yes/no (exactly those words).
func yesNoValue(n *XMLNode, dst *Bool) string {
	switch n.Text {
	case "yes":
		*dst = true
	case "no":
		*dst = false
	default:
		return valueErr(n.Tag, n.Text)
	}
	return ""
}

func applyAuth(a *Auth, s *XMLNode) string {
	for _, k := range s.Kids {
		var msg string
		switch k.Tag {
		case "disabled":
			msg = yesNoValue(k, &a.Disabled)
		case "use_source_ip":
			msg = yesNoValue(k, &a.UseSourceIP)
		case "purge":
			msg = yesNoValue(k, &a.Purge)
		case "use_password":
			msg = yesNoValue(k, &a.UsePassword)
		case "ssl_verify_host":
			msg = yesNoValue(k, &a.SSLVerifyHost)
		case "ssl_auto_negotiate":
			msg = yesNoValue(k, &a.SSLAutoNegotiate)
		case "ipv6", "remote_enrollment":
			var b Bool
			msg = yesNoValue(k, &b)
		case "port":
			p := atoi(k.Text)
			if p <= 0 || p > 65535 {
				msg = valueErr(k.Tag, k.Text)
			}
			a.Port = p
		case "ciphers":
			a.Ciphers = k.Text
		case "ssl_agent_ca":
			a.SSLAgentCA = k.Text
		case "ssl_manager_cert":
			a.SSLManagerCert = k.Text
		case "ssl_manager_key":
			a.SSLManagerKey = k.Text
		case "force":
			msg = applyForce(&a.Force, k)
		default:
			if !slices.Contains(authKnown, k.Tag) {
				msg = invElem(k.Tag)
			}
		}
		if msg != "" {
			return msg
		}
	}
	return ""
}

func applyForce(f *Force, s *XMLNode) string {
	for _, k := range s.Kids {
		switch k.Tag {
		case "enabled":
			if msg := yesNoValue(k, &f.Enabled); msg != "" {
				return msg
			}
		case "key_mismatch":
			if msg := yesNoValue(k, &f.KeyMismatch); msg != "" {
				return msg
			}
		case "disconnected_time":
			if len(k.Attrs) == 0 {
				return "Empty attribute for " + k.Tag
			}
			if k.Attrs[0].Name.Local != "enabled" {
				return fmt.Sprintf("(1233): Invalid attribute '%s' in the configuration: '%s'.", k.Attrs[0].Name.Local, k.Tag)
			}
			switch k.Attrs[0].Value {
			case "yes":
				v := wParseTime(k.Text)
				if v < 0 {
					return "Invalid interval for '" + k.Tag + "' option"
				}
				f.DisconnectedTime = DisconnectedTime{Enabled: true, Value: Timeframe(v)}
			case "no":
				f.DisconnectedTime.Enabled = false
			default:
				return "(2122): Invalid value for attribute: 'enabled'"
			}
		case "after_registration_time":
			v := wParseTime(k.Text)
			if v < 0 {
				return "Invalid interval for '" + k.Tag + "' option"
			}
			f.AfterRegistrationTime = Timeframe(v)
		default:
			return invElem(k.Tag)
		}
	}
	return ""
}

func applyRemote(r *Remote, s *XMLNode) string {
	for _, k := range s.Kids {
		switch k.Tag {
		case "connection":
		case "port":
			if !allDigits(k.Text) {
				return valueErr(k.Tag, k.Text)
			}
			p := atoi(k.Text)
			if p <= 0 || p > 65535 {
				return fmt.Sprintf("(1205): Invalid port number: '%d'.", p)
			}
			r.Port = p
		case "protocol":
			// Unknown words are skipped with a warning; none known is tcp.
			var protos Strings
			for _, w := range strings.Split(k.Text, ",") {
				w = strings.ToLower(strings.TrimSpace(w))
				if (w == "tcp" || w == "udp") && !slices.Contains(protos, w) {
					protos = append(protos, w)
				}
			}
			if len(protos) == 0 {
				protos = Strings{"tcp"}
			}
			r.Protocol = protos
		case "ipv6":
			// Anything but yes/no is ignored with a warning.
			switch strings.ToLower(k.Text) {
			case "yes":
				r.IPv6 = true
			case "no":
				r.IPv6 = false
			}
		case "local_ip":
			if net.ParseIP(k.Text) == nil {
				return fmt.Sprintf("(1237): Invalid ip address: '%s'.", k.Text)
			}
			r.LocalIP = k.Text
		case "connection_overtake_time":
			// Out of range is ignored with a warning, as in remoted.
			if allDigits(k.Text) {
				if v := atoi(k.Text); v >= 0 && v <= 3600 {
					r.ConnectionOvertakeTime = Timeframe(v)
				}
			}
		case "agents":
			if h := k.Kid("allow_higher_versions"); h != nil {
				switch h.Text {
				case "yes":
					r.AllowHigherVersions = true
				case "no":
					r.AllowHigherVersions = false
				}
			}
		default:
			if !slices.Contains(remoteKnown, k.Tag) {
				return invElem(k.Tag)
			}
		}
	}
	return ""
}

// wParseTime reads Wazuh's time values: digits with an optional s, m, h,
// d or w; -1 when it is not one.
func wParseTime(s string) int64 {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 12 {
		return -1
	}
	n, _ := strconv.ParseInt(s[:i], 10, 64)
	mult := map[string]int64{"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
	m, ok := mult[s[i:]]
	if !ok {
		return -1
	}
	return n * m
}

// atoi reads leading digits as C's atoi does; 0 when there are none.
func atoi(s string) int {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 9 {
		i++
	}
	n, _ := strconv.Atoi(s[:i])
	return n
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
