package manager

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/config"
)

func TestClusterSettings(t *testing.T) {
	cfg := config.Default()
	if cfg.Clustered() {
		t.Fatal("a SQLite node is clustered")
	}
	running := func(d string) bool { return d == "wazuh-apid" }
	if clusterdRunning(running, cfg)("wazuh-clusterd") {
		t.Fatal("clusterd runs on a standalone node")
	}
	cfg.Database = config.Database{Driver: "postgres", DSN: "postgres://x/y"}
	if r := clusterdRunning(running, cfg); !r("wazuh-clusterd") || !r("wazuh-apid") || r("wazuh-analysisd") {
		t.Fatal("clusterd does not run on a PostgreSQL node")
	}
	cfg.Cluster.Disabled = true
	if cfg.Clustered() {
		t.Fatal("cluster.disabled is ignored")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	a := config.Default().API
	a.Host = config.Hosts{"127.0.0.1"}
	got, err := defaultClusterAddress(a, true, []net.Listener{ln})
	if want := "https://127.0.0.1:" + strconv.Itoa(port); err != nil || got != want {
		t.Fatalf("address on one host: %q %v, want %q", got, err, want)
	}
	a.Host = config.Hosts{"0.0.0.0", "::"}
	got, err = defaultClusterAddress(a, false, []net.Listener{ln})
	if err == nil && (!strings.HasPrefix(got, "http://") || strings.Contains(got, "0.0.0.0")) {
		t.Fatalf("address on every interface: %q", got)
	}
}
