package config

import (
	"encoding/xml"
	"strconv"
	"strings"
)

// OssecConf renders the settings muster uses as the ossec.conf sections
// Wazuh has for them (global, remote, auth, cluster, logging), so GET
// /manager/configuration answers as a Wazuh manager configured the same way
// would. Settings muster has no use for (the analysis engine's) are left out
// rather than invented. cluster says whether several nodes share the store.
func (c Config) OssecConf(cluster bool) string {
	var b xmlWriter
	b.line(0, "<ossec_config>")
	b.open(1, "global")
	b.opt(2, "agents_disconnection_time", timeText(int64(c.Manager.AgentsDisconnectionTime)))
	b.opt(2, "update_check", "no") // no internet: the update check is off
	b.close(1, "global")

	r := c.Remote
	if r.Enabled {
		b.open(1, "remote")
		b.opt(2, "connection", "secure")
		b.opt(2, "port", strconv.Itoa(r.Port))
		b.opt(2, "protocol", strings.Join(r.Protocol, ","))
		if r.LocalIP != "" {
			b.opt(2, "local_ip", r.LocalIP)
		}
		b.opt(2, "ipv6", yesNo(bool(r.IPv6)))
		b.close(1, "remote")
	}

	a := c.Auth
	b.open(1, "auth")
	b.opt(2, "disabled", yesNo(bool(a.Disabled)))
	b.opt(2, "port", strconv.Itoa(a.Port))
	b.opt(2, "use_source_ip", yesNo(bool(a.UseSourceIP)))
	b.open(2, "force")
	b.opt(3, "enabled", yesNo(bool(a.Force.Enabled)))
	b.opt(3, "key_mismatch", yesNo(bool(a.Force.KeyMismatch)))
	b.line(3, `<disconnected_time enabled="`+yesNo(bool(a.Force.DisconnectedTime.Enabled))+`">`+
		timeText(int64(a.Force.DisconnectedTime.Value))+"</disconnected_time>")
	b.opt(3, "after_registration_time", timeText(int64(a.Force.AfterRegistrationTime)))
	b.close(2, "force")
	b.opt(2, "purge", yesNo(bool(a.Purge)))
	b.opt(2, "use_password", yesNo(bool(a.UsePassword)))
	b.opt(2, "ciphers", a.Ciphers)
	if a.SSLAgentCA != "" {
		b.opt(2, "ssl_agent_ca", a.SSLAgentCA)
	}
	b.opt(2, "ssl_verify_host", yesNo(bool(a.SSLVerifyHost)))
	b.opt(2, "ssl_manager_cert", a.SSLManagerCert)
	b.opt(2, "ssl_manager_key", a.SSLManagerKey)
	b.opt(2, "ssl_auto_negotiate", yesNo(bool(a.SSLAutoNegotiate)))
	b.close(1, "auth")

	b.open(1, "cluster")
	b.opt(2, "name", "wazuh")
	b.opt(2, "node_name", c.Manager.NodeName)
	b.opt(2, "node_type", "master")
	b.opt(2, "port", "1516")
	b.opt(2, "bind_addr", "0.0.0.0")
	b.open(2, "nodes")
	b.opt(3, "node", "NODE_IP")
	b.close(2, "nodes")
	b.opt(2, "hidden", "no")
	b.opt(2, "disabled", yesNo(!cluster))
	b.close(1, "cluster")

	b.open(1, "logging")
	b.opt(2, "log_format", "plain")
	b.close(1, "logging")
	b.line(0, "</ossec_config>")
	return b.String()
}

// xmlWriter writes indented ossec.conf elements.
type xmlWriter struct{ strings.Builder }

func (w *xmlWriter) line(depth int, s string) {
	w.WriteString(strings.Repeat("  ", depth))
	w.WriteString(s)
	w.WriteByte('\n')
}

func (w *xmlWriter) open(depth int, tag string)  { w.line(depth, "<"+tag+">") }
func (w *xmlWriter) close(depth int, tag string) { w.line(depth, "</"+tag+">") }

func (w *xmlWriter) opt(depth int, tag, value string) {
	var esc strings.Builder
	xml.EscapeText(&esc, []byte(value))
	w.line(depth, "<"+tag+">"+esc.String()+"</"+tag+">")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// timeText writes seconds the way ossec.conf's defaults do: in the largest
// unit that divides them ("10m", "1h"), else as plain seconds.
func timeText(secs int64) string {
	for _, u := range []struct {
		n      int64
		suffix string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}} {
		if secs > 0 && secs%u.n == 0 {
			return strconv.FormatInt(secs/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(secs, 10)
}

// OssecConfStored renders the configuration with a stored ossec.conf: the
// sections muster renders, each followed by the elements of the stored
// section muster does not render, as stored; then the stored sections
// muster has no counterpart for (alerts, syscheck, a syslog <remote>, ...),
// as stored. c should already have f applied (Layered, Apply).
func (c Config) OssecConfStored(cluster bool, f *OssecFile) string {
	rendered := c.OssecConf(cluster)
	if f == nil || len(f.Sections) == 0 {
		return rendered
	}
	root, err := parseXML([]byte(rendered))
	if err != nil { // muster's own rendering always parses
		return rendered
	}
	used := make([]bool, len(f.Sections))
	var b strings.Builder
	b.WriteString("<ossec_config>\n")
	for _, sec := range root.Kids {
		var extras []string
		for i, st := range f.Sections {
			if st.Tag != sec.Tag || used[i] {
				continue
			}
			if st.Tag == "remote" {
				if conn := st.Kid("connection"); conn == nil || conn.Text != "secure" {
					continue
				}
			}
			used[i] = true
			for _, k := range st.Kids {
				if sec.Kid(k.Tag) == nil {
					extras = append(extras, k.Raw)
				}
			}
			if st.Tag == "remote" {
				break // one secure connection
			}
		}
		raw := strings.TrimSuffix(sec.Raw, "</"+sec.Tag+">")
		b.WriteString("  " + strings.TrimRight(raw, " \n") + "\n")
		for _, x := range extras {
			b.WriteString("    " + x + "\n")
		}
		b.WriteString("  </" + sec.Tag + ">\n")
	}
	for i, st := range f.Sections {
		if !used[i] {
			b.WriteString("  " + st.Raw + "\n")
		}
	}
	b.WriteString("</ossec_config>\n")
	return b.String()
}
