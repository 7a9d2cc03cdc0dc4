package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/manager"
	"github.com/muster-project/muster/internal/remoted"
)

// liveAgent registers an agent through the API and runs an agent-sim agent
// with its key on the secure channel until the test ends.
func liveAgent(t *testing.T, e *apitest.Env, d *manager.Daemons, name, proto string,
	b agentsim.RequestBehaviour) (agentproto.KeyEntry, *agentsim.Agent) {
	t.Helper()
	reg, err := e.Admin().AddAgent(context.Background(), client.NewAgent{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	line, _ := base64.StdEncoding.DecodeString(reg.Key)
	k, ok, err := agentproto.ParseKeyLine(string(line))
	if err != nil || !ok {
		t.Fatalf("key %q: %v", line, err)
	}
	a, err := agentsim.NewAgent(k, agentsim.AgentOptions{Addr: d.Addrs["remote/"+proto].String(), Protocol: proto,
		NotifyTime: 50 * time.Millisecond, HandshakeTimeout: 5 * time.Second, Requests: b,
		Labels: []string{`"env":"test"`}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(15 * time.Second)
	for {
		d.Remote.Flush(context.Background())
		got, err := e.Admin().GetAgent(context.Background(), k.ID)
		if err == nil && got.Status == client.StatusActive {
			return k, a
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent %s never became active", k.ID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAgentLiveEndpoints(t *testing.T) {
	e, tok := agEnv(t, func(c *config.Config) {
		c.Manager.AgentsDisconnectionTime = 60
		c.API.Access.MaxRequestPerMinute = 0
	})
	d := e.StartDaemons()
	// Short channel timeouts: the silent agent's request ends quickly.
	d.Remote.ConfigureRequests(remoted.RequestOptions{ResponseTimeout: 200 * time.Millisecond,
		RTO: 100 * time.Millisecond})
	tcp, _ := liveAgent(t, e, d, "live-tcp", "tcp", agentsim.RequestBehaviour{})
	udp, _ := liveAgent(t, e, d, "live-udp", "udp", agentsim.RequestBehaviour{})
	silent, _ := liveAgent(t, e, d, "live-silent", "tcp", agentsim.RequestBehaviour{Silent: true})
	failing, _ := liveAgent(t, e, d, "live-failing", "tcp", agentsim.RequestBehaviour{Error: "Permission denied"})

	t.Run("config from the agent", func(t *testing.T) {
		agExpect(t, agGet(t, e, tok, "/agents/"+tcp.ID+"/config/agent/buffer"), 200,
			`{"data": {"buffer": {"disabled": "no", "queue_size": 5000, "events_per_second": 500}}, "error": 0}`)
		agExpect(t, agGet(t, e, tok, "/agents/"+udp.ID+"/config/agent/labels"), 200,
			`{"data": {"labels": [{"value": "test", "key": "env", "hidden": "no"}]}, "error": 0}`)
		client := agData(t, agGet(t, e, tok, "/agents/"+tcp.ID+"/config/agent/client"))["client"].(map[string]any)
		if client["notify_time"] != float64(0) || client["crypto_method"] != "aes" {
			t.Fatalf("client section: %v", client)
		}
		srv := client["server"].([]any)[0].(map[string]any)
		if srv["address"] != "127.0.0.1" || srv["protocol"] != "tcp" {
			t.Fatalf("server: %v", srv)
		}
		for _, p := range []string{"logcollector/localfile", "syscheck/syscheck", "wmodules/wmodules", "agent/internal"} {
			if x := agGet(t, e, tok, "/agents/"+udp.ID+"/config/"+p); x.status != 200 {
				t.Fatalf("%s: %d %s", p, x.status, x.body)
			}
		}
	})

	t.Run("the agent's errors", func(t *testing.T) {
		// A section the component does not have, and a component the agent
		// does not run (its socket is missing).
		agExpect(t, agGet(t, e, tok, "/agents/"+tcp.ID+"/config/com/cluster"), 400, agProblem(1116, "com:cluster"))
		agExpect(t, agGet(t, e, tok, "/agents/"+tcp.ID+"/config/analysis/global"), 400,
			agProblem(1117, "analysis:global"))
		agExpect(t, agGet(t, e, tok, "/agents/"+failing.ID+"/config/agent/client"), 400,
			agProblem(1116, "agent:client"))
		agExpect(t, agGet(t, e, tok, "/agents/"+silent.ID+"/config/agent/client"), 400,
			agProblem(1116, "agent:client"))
		agStatus(t, agGet(t, e, tok, "/agents/"+failing.ID+"/stats/agent"), 500, 1000)
	})

	t.Run("validation", func(t *testing.T) {
		agExpect(t, agGet(t, e, tok, "/agents/"+tcp.ID+"/config/agent/localfile"), 400,
			`{"title": "Bad Request", "detail": "Invalid configuration for the given component: Valid configuration `+
				`values for 'agent': {'client', 'buffer', 'labels', 'internal', 'anti_tampering'}", "error": 1128}`)
		agStatus(t, agGet(t, e, tok, "/agents/"+tcp.ID+"/config/nope/client"), 400, 0)
		agStatus(t, agGet(t, e, tok, "/agents/"+tcp.ID+"/config/agent/nope"), 400, 0)
		agStatus(t, agGet(t, e, tok, "/agents/"+tcp.ID+"/stats/syscheck"), 400, 0)
		agStatus(t, agGet(t, e, tok, "/agents/"+tcp.ID+"/daemons/stats?daemons_list=wazuh-db"), 400, 0)
		agStatus(t, agGet(t, e, tok, "/agents/abc/stats/agent"), 400, 0)
		agExpect(t, agGet(t, e, tok, "/agents/999/config/agent/client"), 404, agProblem(1701, ""))
		agExpect(t, agGet(t, e, tok, "/agents/999/stats/agent"), 200,
			agItems("", 0, []string{agFailed(1701, "", `"999"`)}, "Could not read statistical information for any agent"))
		agExpect(t, agGet(t, e, tok, "/agents/000/stats/agent"), 200,
			agItems("", 0, []string{agFailed(1310, "", `"000"`)}, "Could not read statistical information for any agent"))
	})

	t.Run("component stats", func(t *testing.T) {
		items := agData(t, agGet(t, e, tok, "/agents/"+tcp.ID+"/stats/agent"))["affected_items"].([]any)
		st := items[0].(map[string]any)
		if st["status"] != "connected" || st["buffer_enabled"] != true || !strings.HasSuffix(st["last_ack"].(string), "Z") {
			t.Fatalf("agent state: %v", st)
		}
		items = agData(t, agGet(t, e, tok, "/agents/"+udp.ID+"/stats/logcollector"))["affected_items"].([]any)
		lc := items[0].(map[string]any)
		files := lc["global"].(map[string]any)["files"].([]any)
		if len(files) != 3 || files[2].(map[string]any)["location"] != "df -P" {
			t.Fatalf("logcollector state: %v", lc)
		}
	})

	t.Run("daemon stats", func(t *testing.T) {
		x := agGet(t, e, tok, "/agents/"+tcp.ID+"/daemons/stats?daemons_list=wazuh-remoted")
		var b struct {
			Data struct {
				Items []struct {
					Name   string `json:"name"`
					Agents []struct {
						ID      int `json:"id"`
						Metrics struct {
							Messages struct {
								Received struct {
									Breakdown struct {
										Keepalive int `json:"keepalive"`
										Startup   int `json:"startup"`
										Request   int `json:"request"`
									} `json:"control_breakdown"`
								} `json:"received_breakdown"`
								Sent struct {
									Ack     int `json:"ack"`
									Request int `json:"request"`
								} `json:"sent_breakdown"`
							} `json:"messages"`
						} `json:"metrics"`
					} `json:"agents"`
				} `json:"affected_items"`
			} `json:"data"`
		}
		if err := json.Unmarshal(x.body, &b); err != nil || x.status != 200 || len(b.Data.Items) != 1 ||
			len(b.Data.Items[0].Agents) != 1 {
			t.Fatalf("%d %s", x.status, x.body)
		}
		m := b.Data.Items[0].Agents[0].Metrics.Messages
		if m.Received.Breakdown.Startup != 1 || m.Received.Breakdown.Keepalive < 1 || m.Sent.Ack < 2 ||
			m.Sent.Request < 1 || m.Received.Breakdown.Request < 1 {
			t.Fatalf("counters: %s", x.body)
		}
		// Both daemons: analysisd has no socket in muster.
		var all struct {
			Data struct {
				Failed []struct {
					Error struct{ Code int } `json:"error"`
					ID    []string           `json:"id"`
				} `json:"failed_items"`
			} `json:"data"`
		}
		x = agGet(t, e, tok, "/agents/"+tcp.ID+"/daemons/stats")
		json.Unmarshal(x.body, &all)
		if x.status != 200 || len(all.Data.Failed) != 1 || all.Data.Failed[0].ID[0] != "wazuh-analysisd" ||
			all.Data.Failed[0].Error.Code != 1121 {
			t.Fatalf("%d %s", x.status, x.body)
		}
	})

	t.Run("rbac", func(t *testing.T) {
		other := agScoped(t, e, "liveonly", agPolicy("allow", strs("agent:read"), "agent:id:"+udp.ID))
		for _, p := range []string{"/config/agent/client", "/stats/agent", "/daemons/stats"} {
			agExpect(t, agGet(t, e, other, "/agents/"+tcp.ID+p), 403, forbidden(t, e, other, "/agents/"+tcp.ID+"/key"))
		}
		if x := agGet(t, e, other, "/agents/"+udp.ID+"/config/agent/buffer"); x.status != 200 {
			t.Fatalf("allowed agent: %d %s", x.status, x.body)
		}
	})

	t.Run("unmatched replies are dropped", func(t *testing.T) {
		if d.Remote.UnmatchedReplies() != 0 {
			t.Fatalf("unmatched before: %d", d.Remote.UnmatchedReplies())
		}
	})

	t.Run("disconnected agent", func(t *testing.T) {
		gone, a := liveAgent(t, e, d, "live-gone", "tcp", agentsim.RequestBehaviour{})
		a.Shutdown()
		deadline := time.Now().Add(15 * time.Second)
		for {
			d.Remote.Flush(context.Background())
			got, err := e.Admin().GetAgent(context.Background(), gone.ID)
			if err == nil && got.Status == client.StatusDisconnected {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the stopped agent stayed active")
			}
			time.Sleep(10 * time.Millisecond)
		}
		agExpect(t, agGet(t, e, tok, "/agents/"+gone.ID+"/config/agent/client"), 400, agProblem(1740, ""))
		agExpect(t, agGet(t, e, tok, "/agents/"+gone.ID+"/daemons/stats"), 200,
			agItems("", 0, []string{agFailed(1707, "", `"`+gone.ID+`"`)},
				"Could not read statistical information for any daemon"))
	})
}

// forbidden is the 403 body another agent endpoint gives the token for path.
func forbidden(t *testing.T, e *apitest.Env, tok, path string) string {
	t.Helper()
	x := agGet(t, e, tok, path)
	if x.status != 403 {
		t.Fatalf("%s: %d %s", path, x.status, x.body)
	}
	return string(x.body)
}

func TestAgentLiveTimeoutsAndVersions(t *testing.T) {
	e, tok := agEnv(t, func(c *config.Config) {
		c.Manager.AgentsDisconnectionTime = 60
		c.API.Access.MaxRequestPerMinute = 0
		c.API.Intervals.RequestTimeout = 0.1 // the API gives up before remoted does
	})
	d := e.StartDaemons()
	silent, _ := liveAgent(t, e, d, "slow", "tcp", agentsim.RequestBehaviour{Silent: true})
	agExpect(t, agGet(t, e, tok, "/agents/"+silent.ID+"/config/agent/client"), 500, agProblem500(3021, ""))
	agExpect(t, agGet(t, e, tok, "/agents/"+silent.ID+"/stats/logcollector"), 500, agProblem500(3021, ""))

	// Agent 000 is the manager: its own parts answer.
	agExpect(t, agGet(t, e, tok, "/agents/000/config/request/global"), 200,
		`{"data": {"global": {"agents_disconnection_time": 60, "agents_disconnection_alert_time": 0}}, "error": 0}`)
	x := agGet(t, e, tok, "/agents/000/config/syscheck/syscheck")
	if x.status != 400 || !strings.Contains(string(x.body), `"error": 1121`) {
		t.Fatalf("manager syscheck: %d %s", x.status, x.body)
	}

	// Older agents: the component stats need 4.2.0.
	reg, err := e.Admin().AddAgent(context.Background(), client.NewAgent{Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	line, _ := base64.StdEncoding.DecodeString(reg.Key)
	k, _, _ := agentproto.ParseKeyLine(string(line))
	a, err := agentsim.NewAgent(k, agentsim.AgentOptions{Addr: d.Addrs["remote/tcp"].String(), Version: "v4.1.5",
		NotifyTime: 50 * time.Millisecond, HandshakeTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		d.Remote.Flush(context.Background())
		if got, err := e.Admin().GetAgent(context.Background(), k.ID); err == nil && got.Status == client.StatusActive &&
			got.Version == "Wazuh v4.1.5" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the old agent never became active")
		}
		time.Sleep(10 * time.Millisecond)
	}
	agExpect(t, agGet(t, e, tok, "/agents/"+k.ID+"/stats/agent"), 500,
		agProblem500(1735, "Minimum required version is v4.2.0"))
	if x := agGet(t, e, tok, "/agents/"+k.ID+"/config/agent/buffer?wait_for_complete=true"); x.status != 200 {
		t.Fatalf("config of a 4.1 agent: %d %s", x.status, x.body)
	}
}

// agProblem500 is agProblem for an internal error, whose dapi_errors name api.log.
func agProblem500(code int, extra string) string {
	return strings.Replace(agProblem(code, extra), `"}}, "error"`, `", "logfile": "WAZUH_HOME/logs/api.log"}}, "error"`, 1)
}
