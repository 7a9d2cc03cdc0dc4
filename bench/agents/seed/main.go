// Command seed fills a muster data directory with a synthetic fleet for the
// agent registry benchmarks: agents with Wazuh-like records (statuses,
// operating systems, versions, groups, keys), the groups' directories and
// client.keys. Start the manager on the same data directory afterwards.
//
//	go run ./bench/agents/seed -n 100000 -data-dir /tmp/muster-bench
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/groupfs"
	"github.com/muster-project/muster/internal/manager"
)

type osInfo struct{ name, platform, version, major, minor, codename, arch string }

var systems = []osInfo{
	{"Ubuntu", "ubuntu", "22.04.4 LTS", "22", "04", "Jammy Jellyfish", "x86_64"},
	{"Ubuntu", "ubuntu", "24.04.1 LTS", "24", "04", "Noble Numbat", "x86_64"},
	{"Debian GNU/Linux", "debian", "12", "12", "", "bookworm", "x86_64"},
	{"Red Hat Enterprise Linux", "rhel", "9.4", "9", "4", "Plow", "x86_64"},
	{"Microsoft Windows Server 2022 Datacenter", "windows", "10.0.20348.2700", "10", "0", "", "x86_64"},
	{"macOS", "darwin", "14.6.1", "14", "6", "Sonoma", "arm64"},
}

var versions = []string{"Wazuh v4.14.7", "Wazuh v4.14.7", "Wazuh v4.14.7", "Wazuh v4.13.1", "Wazuh v4.9.2"}

func pick(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

func main() {
	n := flag.Int("n", 100000, "number of agents")
	dataDir := flag.String("data-dir", "", "muster data directory (required)")
	groups := flag.Int("groups", 20, "number of groups besides default")
	driver := flag.String("db", "sqlite", "database driver: sqlite or postgres")
	dsn := flag.String("dsn", "", "database connection string (postgres)")
	flag.Parse()
	if *dataDir == "" {
		log.Fatal("-data-dir is required")
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	store, err := manager.OpenStore(ctx, config.Database{Driver: *driver, DSN: *dsn}, *dataDir)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	shared, err := groupfs.Open(filepath.Join(*dataDir, "etc", "shared"))
	if err != nil {
		log.Fatal(err)
	}
	names := []string{core.DefaultGroup}
	for i := 1; i <= *groups; i++ {
		g := fmt.Sprintf("group-%02d", i)
		names = append(names, g)
		if !shared.Exists(g) {
			if err := shared.Create(g); err != nil {
				log.Fatal(err)
			}
		}
	}
	if err := store.CreateGroups(ctx, names); err != nil {
		log.Fatal(err)
	}
	now := time.Now().Unix()
	const chunk = 5000
	batch := make([]core.Agent, 0, chunk)
	key := make([]byte, 32)
	for id := 1; id <= *n; id++ {
		rand.Read(key)
		a := core.Agent{ID: id, Name: fmt.Sprintf("agent-%06d", id), RegisterIP: core.Some("any"),
			Key: hex.EncodeToString(key), DateAdd: now - int64(86400*30) + int64(id%86400), NodeName: core.Some("node01"),
			Groups: []string{names[id%len(names)]}, GroupConfigStatus: core.ConfigSynced}
		switch r := pick(100); {
		case r < 10:
			a.Status = core.AgentNeverConnected
			a.NodeName = core.Null[string]{}
			a.GroupConfigStatus = core.ConfigNotSynced
		default:
			o := systems[id%len(systems)]
			a.OS = core.AgentOS{Name: core.Some(o.name), Platform: core.Some(o.platform), Version: core.Some(o.version),
				Major: core.Some(o.major), Minor: core.Some(o.minor), Arch: core.Some(o.arch),
				Uname: core.Some("Linux |" + a.Name + " |6.1.0 |#1 SMP |" + o.arch)}
			if o.codename != "" {
				a.OS.Codename = core.Some(o.codename)
			}
			a.Version = core.Some(versions[id%len(versions)])
			a.IP = core.Some(fmt.Sprintf("10.%d.%d.%d", id>>16&255, id>>8&255, id&255))
			a.Manager = core.Some("muster")
			a.MergedSum = core.Some("3a84c2cd74683f47764ed6f4a05d28f0")
			a.ConfigSum = core.Some("ab73af41699f13fdd81903b5f23d8d00")
			a.LastKeepAlive = core.Some(now - int64(pick(60)))
			a.Status = core.AgentActive
			if r < 25 {
				a.Status = core.AgentDisconnected
				a.LastKeepAlive = core.Some(now - int64(3600+pick(86400*10)))
				a.DisconnectionTime = a.LastKeepAlive.V + 900
				a.StatusCode = core.StatusCodeNoKeepalive
			}
		}
		batch = append(batch, a)
		if len(batch) == chunk || id == *n {
			if err := store.PutAgents(ctx, batch); err != nil {
				log.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	agents := core.NewAgents(core.AgentsOptions{Store: store, DataDir: *dataDir, Hostname: "muster-bench"})
	if err := agents.Start(ctx); err != nil { // writes agent 000 and client.keys
		log.Fatal(err)
	}
	fmt.Printf("seeded %d agents and %d groups in %s (%s)\n", *n, len(names), time.Since(start).Round(time.Millisecond),
		*dataDir)
}
