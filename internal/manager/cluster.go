package manager

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/muster-project/muster/internal/api"
	"github.com/muster-project/muster/internal/cluster"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/oplog"
	"github.com/muster-project/muster/internal/sqlstore"
)

// clusterdRunning makes wazuh-clusterd report running on a node that joins
// the cluster of its store.
func clusterdRunning(running func(string) bool, cfg config.Config) func(string) bool {
	if !cfg.Clustered() {
		return running
	}
	return func(d string) bool { return d == "wazuh-clusterd" || running(d) }
}

// startCluster joins the node to the cluster of its PostgreSQL store: it
// registers and heartbeats, takes the master lease when it is free, makes
// the disconnection sweep run on the master only, and makes the API answer
// as a cluster node. The returned stop waits for the node to leave (its
// row removed, its lease released), so call it before the store closes.
// A standalone node (SQLite, or cluster.disabled) does nothing.
func startCluster(ctx context.Context, cfg config.Config, store *sqlstore.Store, srv *api.Server,
	agents *core.Agents, tlsCfg *tls.Config, listeners []net.Listener, log *slog.Logger) (stop func(), err error) {
	if !cfg.Clustered() {
		return func() {}, nil
	}
	addr := cfg.Cluster.Address
	if addr == "" {
		if addr, err = defaultClusterAddress(cfg.API, tlsCfg != nil, listeners); err != nil {
			return nil, err
		}
	}
	var pin string
	if tlsCfg != nil && len(tlsCfg.Certificates) > 0 {
		pin = cluster.CertDigest(&tlsCfg.Certificates[0])
	}
	clog := log.With(oplog.DaemonKey, "wazuh-clusterd")
	node := cluster.New(cluster.Options{Store: store, Name: cfg.Manager.NodeName, Address: addr, CertSHA256: pin,
		Version: api.Version, Log: clog, Key: cfg.Cluster.Key})
	agents.SetSweepGate(node.IsMaster)
	srv.JoinCluster(node)
	clog.Info("joining the cluster of the store", "node_name", cfg.Manager.NodeName, "address", addr)
	// Registered before the API serves, so that a node is listed as soon
	// as it answers; a failure here is retried by the heartbeat loop.
	node.Tick(ctx)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		node.Run(runCtx)
	}()
	return func() {
		cancel()
		wg.Wait()
		srv.LeaveCluster()
	}, nil
}

// defaultClusterAddress is the API's URL on the host's first non-loopback
// address (or the configured host when it is one address), with the port
// the API listens on.
func defaultClusterAddress(a config.API, https bool, listeners []net.Listener) (string, error) {
	if len(listeners) == 0 {
		return "", fmt.Errorf("cluster: the API listens nowhere")
	}
	port := strconv.Itoa(a.Port)
	if ta, ok := listeners[0].Addr().(*net.TCPAddr); ok {
		port = strconv.Itoa(ta.Port)
	}
	host := ""
	for _, h := range a.Host {
		if ip := net.ParseIP(h); ip != nil && !ip.IsUnspecified() {
			host = h
			break
		}
	}
	if host == "" {
		host = outboundIP()
	}
	if host == "" {
		return "", fmt.Errorf("cluster: no address other nodes can reach this node on: set cluster.address")
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// outboundIP is the host's first global unicast address, IPv4 first.
func outboundIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	var v6 string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || !ipn.IP.IsGlobalUnicast() {
			continue
		}
		if ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
		if v6 == "" {
			v6 = ipn.IP.String()
		}
	}
	return v6
}
