package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/rbac"
)

// Minimum agent versions of the live endpoints (Wazuh's
// ACTIVE_CONFIG_VERSION and AGENT_COMPONENT_STATS_REQUIRED_VERSION).
const (
	activeConfigVersion   = "3.7.0"
	componentStatsVersion = "4.2.0"
)

// LiveConfig is the answer of GET /agents/{agent_id}/config/...: the
// agent's JSON, or, for agent 000, a note that the manager answers itself.
type LiveConfig struct {
	Manager bool            // agent 000: the manager's own daemons answer
	Data    json.RawMessage // the agent's configuration object
}

// AgentConfig is GET /agents/{agent_id}/config/{component}/{configuration}:
// the active configuration the agent reports over the request channel.
// The component/configuration pair has been checked by the caller.
func (a *Agents) AgentConfig(ctx context.Context, perms *rbac.Permissions, id, component,
	configuration string) (*LiveConfig, error) {
	if _, _, err := a.decide(ctx, perms, CheckAgentRead, "agents_list", []string{id}); err != nil {
		return nil, err
	}
	if id == "000" {
		return &LiveConfig{Manager: true}, nil
	}
	ag, err := a.liveAgent(ctx, id)
	if err != nil {
		return nil, err
	}
	if ag.Status != AgentActive {
		return nil, E(1740)
	}
	if !ag.Version.Valid || olderThan(ag.Version.V, activeConfigVersion) {
		return nil, Ef(1735, "Minimum required version is Wazuh v%s", activeConfigVersion)
	}
	reply, err := a.ask(ctx, ag, component, "getconfig "+configuration)
	if err != nil {
		return nil, err
	}
	status, rest, ok := splitStatus(reply)
	if !ok {
		return nil, Ef(1118, "Data could not be received")
	}
	if status != "ok" {
		code := 1116
		if strings.Contains(rest, "No such file or directory") || strings.Contains(rest, "Cannot send request") {
			code = 1117
		}
		return nil, Ef(code, "%s:%s", component, configuration)
	}
	if !json.Valid([]byte(rest)) || !isObject(rest) {
		return nil, Internal(errors.New("core: the agent's configuration is not a JSON object"))
	}
	return &LiveConfig{Data: json.RawMessage(rest)}, nil
}

// AgentComponentStats is GET /agents/{agent_id}/stats/{component}: the
// counters the agent's daemon ("agent", "logcollector") reports.
func (a *Agents) AgentComponentStats(ctx context.Context, perms *rbac.Permissions, id,
	component string) (*Bulk, error) {
	b := NewBulk("Statistical information for each agent was successfully read",
		"Could not read statistical information for some agents",
		"Could not read statistical information for any agent")
	if _, _, err := a.decide(ctx, perms, CheckAgentRead, "agents_list", []string{id}); err != nil {
		return nil, err
	}
	n, ok := ParseAgentID(id)
	var ag *Agent
	if ok {
		agents, err := a.store.GetAgents(ctx, []int{n})
		if err != nil {
			return nil, err
		}
		if len(agents) > 0 {
			ag = &agents[0]
		}
	}
	switch {
	case ag == nil:
		b.Fail(E(1701), id)
		return b, nil
	case !ag.Version.Valid || ag.Version.V == "":
		return nil, E(1015)
	case olderThan(ag.Version.V, componentStatsVersion):
		return nil, Ef(1735, "Minimum required version is v%s", componentStatsVersion)
	case id == "000" && component == "agent":
		b.Fail(E(1310), id)
		return b, nil
	case id == "000":
		// The manager's logcollector: muster runs none, so its socket is missing.
		b.Fail(Ef(1121, "%s", "WAZUH_PATH/queue/sockets/"+component), id)
		return b, nil
	}
	reply, err := a.ask(ctx, ag, component, "getstate")
	if err != nil {
		return nil, err
	}
	var msg struct {
		Error   *int            `json:"error"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(reply), &msg); err != nil {
		// Wazuh's API parses the channel's "err ..." texts as JSON too and
		// fails with an unhandled error.
		return nil, Internal(errors.New("core: the agent's state answer is not JSON: " + truncate(reply, 80)))
	}
	if msg.Error != nil && *msg.Error != 0 {
		b.Fail(Ef(1117, "%s", msg.Message), id)
		return b, nil
	}
	if !isObject(string(msg.Data)) {
		return nil, Internal(errors.New("core: the agent's state has no data object"))
	}
	b.Add(stateDates(msg.Data))
	return b, nil
}

// DaemonStats is one item of GET /agents/{agent_id}/daemons/stats.
type DaemonStats struct {
	Timestamp string             `json:"timestamp"`
	Name      string             `json:"name"`
	Agents    []AgentDaemonStats `json:"agents"`
}

// AgentDaemonStats is remoted's entry for one agent.
type AgentDaemonStats struct {
	Uptime  string `json:"uptime"`
	ID      int    `json:"id"`
	Metrics struct {
		Messages struct {
			Received struct {
				Control          int64 `json:"control"`
				ControlBreakdown struct {
					Keepalive int64 `json:"keepalive"`
					Request   int64 `json:"request"`
					Shutdown  int64 `json:"shutdown"`
					Startup   int64 `json:"startup"`
				} `json:"control_breakdown"`
				Event int64 `json:"event"`
			} `json:"received_breakdown"`
			Sent struct {
				Ack       int64 `json:"ack"`
				AR        int64 `json:"ar"`
				Discarded int64 `json:"discarded"`
				Request   int64 `json:"request"`
				SCA       int64 `json:"sca"`
				Shared    int64 `json:"shared"`
			} `json:"sent_breakdown"`
		} `json:"messages"`
	} `json:"metrics"`
}

// AgentDaemonsStats is GET /agents/{agent_id}/daemons/stats: the secure
// channel's counters of the agent (wazuh-remoted). muster has no analysis
// engine, so wazuh-analysisd is the failed item Wazuh gives for a daemon
// whose socket does not answer.
func (a *Agents) AgentDaemonsStats(ctx context.Context, perms *rbac.Permissions, id string,
	daemons []string) (*Bulk, error) {
	b := NewBulk("Statistical information for each daemon was successfully read",
		"Could not read statistical information for some daemons",
		"Could not read statistical information for any daemon")
	if _, _, err := a.decide(ctx, perms, CheckAgentRead, "agents_list", []string{id}); err != nil {
		return nil, err
	}
	if id == "000" {
		b.Fail(E(1703), id)
		return b, nil
	}
	ag, err := a.liveAgent(ctx, id)
	var ce *Error
	if errors.As(err, &ce) && ce.Code == 1701 {
		b.Fail(ce, id)
		return b, nil
	} else if err != nil {
		return nil, err
	}
	if ag.Status != AgentActive {
		b.Fail(E(1707), id)
		return b, nil
	}
	if len(daemons) == 0 {
		daemons = []string{"wazuh-remoted", "wazuh-analysisd"}
	}
	now := a.now().UTC()
	for _, d := range daemons {
		if d != "wazuh-remoted" {
			b.Fail(Ef(1121, "%s", "WAZUH_PATH/queue/sockets/analysis"), d)
			continue
		}
		item := DaemonStats{Timestamp: isoDate(now), Name: d, Agents: []AgentDaemonStats{}}
		if r := a.requester(); r != nil {
			stats, err := r.AgentChannelStats(ctx, ag.NodeName.V, []int{ag.ID})
			if err != nil {
				b.Fail(Ef(1121, "%s", "WAZUH_PATH/queue/sockets/remote"), d)
				continue
			}
			for _, s := range stats {
				item.Agents = append(item.Agents, daemonStats(s))
			}
		}
		b.Add(item)
	}
	return b, nil
}

func daemonStats(s AgentChannelStats) AgentDaemonStats {
	var d AgentDaemonStats
	d.Uptime, d.ID = isoDate(time.Unix(s.Since, 0)), s.ID
	m := &d.Metrics.Messages
	m.Received.ControlBreakdown.Keepalive, m.Received.ControlBreakdown.Request = s.Keepalive, s.Request
	m.Received.ControlBreakdown.Shutdown, m.Received.ControlBreakdown.Startup = s.Shutdown, s.Startup
	m.Received.Control = s.Keepalive + s.Request + s.Shutdown + s.Startup
	m.Received.Event = s.Event
	m.Sent.Ack, m.Sent.AR, m.Sent.Discarded = s.SentAck, s.SentAR, s.SentDiscarded
	m.Sent.Request, m.Sent.Shared = s.SentRequest, s.SentShared
	return d
}

// liveAgent loads a named agent; an unknown id is 1701.
func (a *Agents) liveAgent(ctx context.Context, id string) (*Agent, error) {
	if n, ok := ParseAgentID(id); ok {
		agents, err := a.store.GetAgents(ctx, []int{n})
		if err != nil {
			return nil, err
		}
		if len(agents) > 0 {
			return &agents[0], nil
		}
	}
	return nil, E(1701)
}

// ask sends a request to the agent through the node it reports to. The
// API's request_timeout ending the wait is Wazuh's 3021.
func (a *Agents) ask(ctx context.Context, ag *Agent, component, command string) (string, error) {
	r := a.requester()
	if r == nil {
		return "err Cannot send request", nil
	}
	reply, err := r.AgentRequest(ctx, AgentRequest{Node: ag.NodeName.V, AgentID: ag.ID, Component: component,
		Command: command})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", E(3021)
		}
		return "", Internal(err)
	}
	return reply, nil
}

// splitStatus splits "ok <json>" / "err <text>" at the first space.
func splitStatus(s string) (status, rest string, ok bool) { return strings.Cut(s, " ") }

func isObject(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// isoDate is the form Wazuh's API gives datetimes in.
func isoDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

// stateDates rewrites the agent daemon's "last_keepalive" and "last_ack"
// ("2006-01-02 15:04:05") in the API's date form, as Wazuh's API does; the
// other members keep the agent's order and values.
func stateDates(data json.RawMessage) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return data
	}
	out := data
	for _, k := range []string{"last_keepalive", "last_ack"} {
		var v string
		if json.Unmarshal(obj[k], &v) != nil {
			continue
		}
		t, err := time.Parse("2006-01-02 15:04:05", v)
		if err != nil {
			continue
		}
		old, _ := json.Marshal(v)
		repl, _ := json.Marshal(t.Format("2006-01-02T15:04:05Z"))
		out = bytes.Replace(out, append([]byte(`"`+k+`":`), old...), append([]byte(`"`+k+`":`), repl...), 1)
	}
	return out
}
