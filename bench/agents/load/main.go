// Command load measures the agent registry of a running muster (or Wazuh)
// manager: latency percentiles of GET /agents pages, the full list, the
// status summary and a selective q, and the sustained rate of POST /agents.
//
//	go run ./bench/agents/load -url https://127.0.0.1:55000 -n 100000
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	base   = flag.String("url", "https://127.0.0.1:55000", "manager API URL")
	user   = flag.String("user", "wazuh", "API user")
	pass   = flag.String("password", "wazuh", "API password")
	agents = flag.Int("n", 100000, "agents seeded (for random names in q)")
	conc   = flag.Int("c", 8, "concurrent clients of the timed runs")
	dur    = flag.Duration("d", 10*time.Second, "length of each timed run")
	only   = flag.String("only", "", "comma-separated scenarios (list500,q,summary,full,enroll); empty runs all")
)

var httpc = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 256}}

func login() string {
	req, _ := http.NewRequest(http.MethodPost, *base+"/security/user/authenticate?raw=true", nil)
	req.SetBasicAuth(*user, *pass)
	resp, err := httpc.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		log.Fatalf("login: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// call sends one request and returns its latency; any non-200 is fatal.
func call(token, method, path string, body []byte) (time.Duration, int) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, *base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	t0 := time.Now()
	resp, err := httpc.Do(req)
	if err != nil {
		log.Fatalf("%s %s: %v", method, path, err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if resp.StatusCode != 200 {
		log.Fatalf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	return d, int(n)
}

type result struct {
	name     string
	n        int
	rate     float64
	p50, p99 time.Duration
	bytes    int
}

// timed runs fn from conc goroutines for dur and collects latencies.
func timed(name string, fn func(worker, i int) (time.Duration, int)) result {
	var mu sync.Mutex
	var lat []time.Duration
	var size int
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var mine []time.Duration
			for i := 0; !stop.Load(); i++ {
				d, n := fn(w, i)
				mine = append(mine, d)
				size = n
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(w)
	}
	time.Sleep(*dur)
	stop.Store(true)
	wg.Wait()
	el := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return result{name: name, n: len(lat), rate: float64(len(lat)) / el.Seconds(), p50: pct(lat, 50), p99: pct(lat, 99),
		bytes: size}
}

func pct(l []time.Duration, p int) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, len(l)*p/100)]
}

func want(s string) bool {
	return *only == "" || strings.Contains(","+*only+",", ","+s+",")
}

func main() {
	flag.Parse()
	token := login()
	var out []result
	if want("list500") {
		out = append(out, timed("GET /agents?limit=500", func(int, int) (time.Duration, int) {
			return call(token, "GET", "/agents?limit=500", nil)
		}))
	}
	if want("q") {
		out = append(out, timed("GET /agents?q=name=<one agent>", func(int, int) (time.Duration, int) {
			q := url.QueryEscape(fmt.Sprintf("name=agent-%06d", 1+rand.IntN(*agents)))
			return call(token, "GET", "/agents?q="+q, nil)
		}))
		out = append(out, timed("GET /agents?q=ip=<one address>", func(int, int) (time.Duration, int) {
			id := 1 + rand.IntN(*agents)
			q := url.QueryEscape(fmt.Sprintf("ip=10.%d.%d.%d", id>>16&255, id>>8&255, id&255))
			return call(token, "GET", "/agents?select=id,name,ip&q="+q, nil)
		}))
	}
	if want("summary") {
		out = append(out, timed("GET /agents/summary/status", func(int, int) (time.Duration, int) {
			return call(token, "GET", "/agents/summary/status", nil)
		}))
	}
	if want("full") {
		var lat []time.Duration
		var size int
		for i := 0; i < 5; i++ {
			d, n := call(token, "GET", "/agents?limit=100000", nil)
			lat, size = append(lat, d), n
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		out = append(out, result{name: "GET /agents?limit=100000 (5 sequential)", n: 5, p50: lat[2], p99: lat[4], bytes: size})
	}
	if want("enroll") {
		prefix := fmt.Sprintf("load-%d-", time.Now().UnixNano())
		out = append(out, timed("POST /agents (unique names)", func(w, i int) (time.Duration, int) {
			body, _ := json.Marshal(map[string]string{"name": fmt.Sprintf("%s%d-%d", prefix, w, i)})
			return call(token, "POST", "/agents", body)
		}))
	}
	fmt.Printf("| %-42s | %8s | %9s | %9s | %9s | %10s |\n", "run", "requests", "req/s", "p50", "p99", "body bytes")
	fmt.Printf("|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 44), strings.Repeat("-", 10), strings.Repeat("-", 11),
		strings.Repeat("-", 11), strings.Repeat("-", 11), strings.Repeat("-", 12))
	for _, r := range out {
		fmt.Printf("| %-42s | %8d | %9.0f | %9s | %9s | %10d |\n", r.name, r.n, r.rate,
			r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.bytes)
	}
}
