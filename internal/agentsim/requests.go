package agentsim

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

// RequestBehaviour makes an agent misbehave on the request channel (tests).
type RequestBehaviour struct {
	// Silent agents take requests and never answer.
	Silent bool
	// Error, when set, is answered to every request as "err <Error>".
	Error string
	// Twice sends every answer two times, as a UDP agent resending it does.
	Twice bool
}

// answer handles a manager request as a real agent's request module does:
// over UDP a receipt first, then the component's answer.
func (a *Agent) answer(m agentproto.ManagerMessage) {
	call, err := agentproto.ParseAgentRequest(m.Counter, m.Body)
	if err != nil {
		return // the reference drops malformed requests
	}
	if a.o.Protocol == "udp" {
		_ = a.send(agentproto.FormatRequestAck(call.Counter))
	}
	b := a.o.Requests
	switch {
	case b.Silent:
		return
	case b.Error != "":
		_ = a.send(agentproto.FormatRequestReply(call.Counter, []byte("err "+b.Error)))
		return
	}
	reply := agentproto.FormatRequestReply(call.Counter, []byte(a.component(call.Target, call.Command)))
	_ = a.send(reply)
	if b.Twice {
		_ = a.send(reply)
	}
}

// component is what the agent's component answers to a command. Targets
// other than the agent daemon are reached through their local sockets: an
// unknown one is the socket error.
func (a *Agent) component(target, command string) string {
	verb, arg, _ := strings.Cut(command, " ")
	switch target {
	case "agent", "logcollector", "syscheck", "wmodules", "com":
	default:
		return "err No such file or directory"
	}
	switch verb {
	case "getconfig":
		if arg == "" {
			return "err getconfig needs arguments"
		}
		if v := a.config(target, arg); v != nil {
			out, _ := json.Marshal(v)
			return "ok " + string(out)
		}
		return "err Could not get requested section"
	case "getstate":
		switch target {
		case "agent":
			return a.agentState()
		case "logcollector":
			return a.logcollectorState()
		}
	}
	return "err Unrecognized command"
}

// obj is a JSON object that keeps its members' order, as cJSON prints them.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, f := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(f.k)
		v, err := json.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// config is a small, realistic active configuration of the agent's
// components, in the shapes of the agent's getconfig answers; nil when the
// component has no such section.
func (a *Agent) config(target, section string) any {
	proto := a.o.Protocol
	crypto := "aes"
	if a.o.Method == agentproto.MethodBlowfish {
		crypto = "blowfish"
	}
	host, port := a.serverAddr(), 1514
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	switch target + "/" + section {
	case "agent/client":
		return obj{{"client", obj{{"config-profile", "debian, debian12"},
			{"notify_time", int(a.o.NotifyTime / time.Second)}, {"time-reconnect", 60},
			{"force_reconnect_interval", 0}, {"ip_update_interval", 0}, {"auto_restart", "yes"},
			{"remote_conf", "yes"}, {"crypto_method", crypto},
			{"server", []obj{{{"address", host}, {"port", port}, {"max_retries", 5}, {"retry_interval", 10},
				{"protocol", proto}}}},
			{"enrollment", obj{{"enabled", "yes"}, {"delay_after_enrollment", 20}, {"port", 1515},
				{"ssl_cipher", "HIGH:!ADH:!EXP:!MD5:!RC4:!3DES:!CAMELLIA:@STRENGTH"}, {"auto_method", "no"}}}}}}
	case "agent/buffer":
		return obj{{"buffer", obj{{"disabled", "no"}, {"queue_size", 5000}, {"events_per_second", 500}}}}
	case "agent/labels":
		labels := []obj{}
		for _, l := range a.o.Labels {
			k, v, _ := strings.Cut(l, ":")
			hidden := "no"
			if strings.HasPrefix(k, `"!`) {
				hidden, k = "yes", `"`+k[2:]
			}
			labels = append(labels, obj{{"value", strings.Trim(v, `"`)}, {"key", strings.Trim(k, `"`)},
				{"hidden", hidden}})
		}
		return obj{{"labels", labels}}
	case "agent/internal":
		return obj{{"internal", obj{
			{"agent", obj{{"debug", 0}, {"warn_level", 3}, {"normal_level", 1}, {"tolerance", 15},
				{"recv_timeout", 60}, {"state_interval", 5}, {"min_eps", 50}, {"remote_conf", 1}}},
			{"monitord", obj{{"rotate_log", 1}, {"compress", 1}, {"keep_log_days", 31}, {"day_wait", 10},
				{"size_rotate", 512}, {"daily_rotations", 12}}},
			{"remoted", obj{{"request_pool", 1024}, {"request_rto_sec", 1}, {"request_rto_msec", 0},
				{"max_attempts", 4}, {"comp_average_printout", 19999}, {"recv_counter_flush", 128},
				{"verify_msg_id", 0}}}}}}
	case "agent/anti_tampering":
		if agentproto.CompareVersions(a.o.Version, "v4.13.0", false) < 0 {
			return nil // the section came with 4.13
		}
		return obj{{"anti_tampering", obj{{"package_uninstallation", "no"}}}}
	case "logcollector/localfile":
		return obj{{"localfile", []obj{
			{{"file", "/var/ossec/logs/active-responses.log"}, {"logformat", "syslog"}, {"ignore_binaries", "no"},
				{"only-future-events", "yes"}, {"target", []string{"agent"}}},
			{{"file", "/var/log/dpkg.log"}, {"logformat", "syslog"}, {"ignore_binaries", "no"},
				{"only-future-events", "yes"}, {"target", []string{"agent"}}},
			{{"command", "df -P"}, {"logformat", "command"}, {"alias", "df -P"}, {"frequency", 360},
				{"ignore_binaries", "no"}, {"target", []string{"agent"}}}}}}
	case "logcollector/internal":
		return obj{{"logcollector", obj{{"remote_commands", 0}, {"loop_timeout", 2}, {"open_attempts", 8},
			{"vcheck_files", 64}, {"max_lines", 10000}, {"max_files", 1000}, {"sock_fail_time", 300},
			{"debug", 0}, {"sample_log_length", 64}, {"queue_size", 1024}, {"state_interval", 60}}}}
	case "syscheck/syscheck":
		return obj{{"syscheck", obj{{"disabled", "no"}, {"frequency", 43200}, {"skip_nfs", "yes"},
			{"skip_dev", "yes"}, {"skip_sys", "yes"}, {"skip_proc", "yes"}, {"scan_on_start", "yes"},
			{"file_limit", obj{{"enabled", "yes"}, {"entries", 100000}}},
			{"directories", []obj{
				{{"opts", []string{"check_md5sum", "check_sha1sum", "check_perm", "check_size", "check_owner",
					"check_group", "check_mtime", "check_inode", "check_sha256sum"}}, {"dir", "/etc"},
					{"recursion_level", 256}, {"diff_size_limit", 52428800}},
				{{"opts", []string{"check_md5sum", "check_sha1sum", "check_perm", "check_size", "check_owner",
					"check_group", "check_mtime", "check_inode", "check_sha256sum"}}, {"dir", "/usr/bin"},
					{"recursion_level", 256}, {"diff_size_limit", 52428800}}}},
			{"ignore", []string{"/etc/mtab", "/etc/hosts.deny", "/etc/random-seed"}},
			{"synchronization", obj{{"enabled", "yes"}, {"max_interval", 3600}, {"interval", 300},
				{"response_timeout", 30}, {"queue_size", 16384}, {"max_eps", 10}}}}}}
	case "syscheck/rootcheck":
		return obj{{"rootcheck", obj{{"disabled", "no"}, {"check_unixaudit", "yes"}, {"check_files", "yes"},
			{"check_trojans", "yes"}, {"check_dev", "yes"}, {"check_sys", "yes"}, {"check_pids", "yes"},
			{"check_ports", "yes"}, {"check_if", "yes"}, {"frequency", 43200}, {"skip_nfs", "yes"}}}}
	case "syscheck/internal":
		return obj{{"syscheck", obj{{"sleep", 1}, {"sleep_after", 100}, {"rt_delay", 5},
			{"default_max_depth", 256}, {"symlink_scan_interval", 600}, {"file_max_size", 1024}}},
			{"rootcheck", obj{{"sleep", 50}}}}
	case "wmodules/wmodules":
		return obj{{"wmodules", []obj{
			{{"syscollector", obj{{"disabled", "no"}, {"scan-on-start", "yes"}, {"interval", 3600},
				{"network", "yes"}, {"os", "yes"}, {"hardware", "yes"}, {"packages", "yes"}, {"ports_all", "no"},
				{"processes", "yes"}, {"sync_max_eps", 10}}}},
			{{"sca", obj{{"enabled", "yes"}, {"scan_on_start", "yes"}, {"interval", 43200}, {"max_eps", 50}}}}}}}
	case "com/active-response":
		return obj{{"active-response", obj{{"disabled", "no"}, {"ca_store", []string{"wpk_root.pem"}},
			{"ca_verification", "yes"}}}}
	case "com/logging":
		return obj{{"logging", obj{{"plain", "yes"}, {"json", "no"}}}}
	case "com/internal":
		return obj{{"internal", obj{{"execd", obj{{"request_timeout", 60}, {"max_restart_lock", 600}}}}}}
	}
	return nil
}

// agentState is the agent daemon's getstate answer.
func (a *Agent) agentState() string {
	status := "disconnected"
	if a.Connected() {
		status = "connected"
	}
	stamp := func(ns int64) string {
		if ns == 0 {
			return ""
		}
		return time.Unix(0, ns).UTC().Format("2006-01-02 15:04:05")
	}
	out, _ := json.Marshal(obj{{"error", 0}, {"data", obj{{"status", status},
		{"last_keepalive", stamp(a.lastKeepalive.Load())}, {"last_ack", stamp(a.heard.Load())},
		{"msg_count", a.msgEvents.Load()}, {"msg_sent", a.msgSent.Load()}, {"msg_buffer", 0},
		{"buffer_enabled", true}}}})
	return string(out)
}

// logcollectorState is logcollector's getstate answer: the files the
// simulated agent reads, with no events (it generates none from them).
func (a *Agent) logcollectorState() string {
	start := time.Unix(0, a.born).UTC().Format("2006-01-02 15:04:05")
	now := time.Now().UTC().Format("2006-01-02 15:04:05")
	files := []obj{}
	for _, loc := range []string{"/var/ossec/logs/active-responses.log", "/var/log/dpkg.log", "df -P"} {
		files = append(files, obj{{"location", loc}, {"events", 0}, {"bytes", 0},
			{"targets", []obj{{{"name", "agent"}, {"drops", 0}}}}})
	}
	out, _ := json.Marshal(obj{{"error", 0}, {"data", obj{
		{"global", obj{{"start", start}, {"end", now}, {"files", files}}},
		{"interval", obj{{"start", now}, {"end", now}, {"files", files}}}}}})
	return string(out)
}
