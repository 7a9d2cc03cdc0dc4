package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
)

// agBenchFleet is the size of the benchmarks' fleet (issue 4's targets).
const agBenchFleet = 100000

// agBenchEnv starts a manager holding agBenchFleet agents.
func agBenchEnv(b *testing.B) (*apitest.Env, string) {
	b.Helper()
	e := apitest.Start(b, func(c *config.Config) { c.API.Access.MaxRequestPerMinute = 0 })
	platforms := []string{"ubuntu", "debian", "windows", "rhel", "darwin"}
	batch := make([]core.Agent, 0, 5000)
	for id := 1; id <= agBenchFleet; id++ {
		a := core.Agent{ID: id, Name: fmt.Sprintf("agent-%06d", id), RegisterIP: core.Some("any"),
			Key: strings.Repeat("a", 64), DateAdd: 1_700_000_000, IP: core.Some(fmt.Sprintf("10.%d.%d.%d", id>>16, id>>8&255, id&255)),
			OS:      core.AgentOS{Platform: core.Some(platforms[id%5]), Name: core.Some("OS"), Version: core.Some("1")},
			Version: core.Some("Wazuh v4.14.7"), LastKeepAlive: core.Some[int64](1_700_000_100), Status: core.AgentActive,
			GroupConfigStatus: core.ConfigSynced, NodeName: core.Some("node01"), Groups: []string{"default"}}
		batch = append(batch, a)
		if len(batch) == cap(batch) {
			if err := e.Store.PutAgents(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	req, _ := http.NewRequest("POST", e.URL+"/security/user/authenticate?raw=true", nil)
	req.SetBasicAuth("wazuh", "wazuh")
	resp, err := e.RawHTTP().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	tok, _ := io.ReadAll(resp.Body)
	return e, string(tok)
}

func agBenchGet(b *testing.B, e *apitest.Env, c *http.Client, tok, path string) {
	req, _ := http.NewRequest("GET", e.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("%s: %d", path, resp.StatusCode)
	}
}

func agBenchReads(b *testing.B, path func(i int) string) {
	e, tok := agBenchEnv(b)
	c := e.RawHTTP()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		agBenchGet(b, e, c, tok, path(i))
	}
}

// BenchmarkAgentsList500 is GET /agents?limit=500 over 100,000 agents.
func BenchmarkAgentsList500(b *testing.B) {
	agBenchReads(b, func(int) string { return "/agents?limit=500" })
}

// BenchmarkAgentsListAll is GET /agents?limit=100000.
func BenchmarkAgentsListAll(b *testing.B) {
	agBenchReads(b, func(int) string { return "/agents?limit=100000" })
}

// BenchmarkAgentsSummaryStatus is GET /agents/summary/status.
func BenchmarkAgentsSummaryStatus(b *testing.B) {
	agBenchReads(b, func(int) string { return "/agents/summary/status" })
}

// BenchmarkAgentsSelectiveQ is GET /agents?q=name=<one agent>.
func BenchmarkAgentsSelectiveQ(b *testing.B) {
	agBenchReads(b, func(i int) string { return fmt.Sprintf("/agents?q=name%%3Dagent-%06d", 1+i*7919%agBenchFleet) })
}

// BenchmarkAgentsRegister is POST /agents from 32 concurrent clients.
func BenchmarkAgentsRegister(b *testing.B) {
	e, tok := agBenchEnv(b)
	c := e.RawHTTP()
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"name": "new-%d"}`, n.Add(1))
			req, _ := http.NewRequest("POST", e.URL+"/agents", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("POST /agents: %d", resp.StatusCode)
			}
		}
	})
}
