// Command profserver runs the real manager (internal/manager.Run, exactly
// what `muster server` runs) with net/http/pprof on a second loopback port,
// so that a CPU profile can be taken while wrk loads the API:
//
//	go run ./bench/profserver -data-dir DIR -api-port 55100 -config cfg.yaml -pprof 127.0.0.1:6060 &
//	wrk ... &
//	go tool pprof -top http://127.0.0.1:6060/debug/pprof/profile?seconds=10
//
// bench/api.sh uses it when PROFILE=1. It is a benchmarking aid, not a way
// to run muster.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"syscall"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/manager"
)

func main() {
	dataDir := flag.String("data-dir", "", "data directory")
	port := flag.Int("api-port", 0, "API port on 127.0.0.1")
	cfgFile := flag.String("config", "", "YAML configuration file")
	pprofAddr := flag.String("pprof", "127.0.0.1:6060", "loopback address for /debug/pprof")
	flag.Parse()

	cfg := config.Default()
	if *cfgFile != "" {
		var err error
		if cfg, err = config.Load(*cfgFile); err != nil {
			log.Fatal(err)
		}
	}
	cfg.API.Host = config.Hosts{"127.0.0.1"}
	cfg.API.Port = *port
	if err := cfg.Validate(); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *pprofAddr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "pprof on http://%s/debug/pprof/\n", ln.Addr())
	go http.Serve(ln, nil) // DefaultServeMux carries net/http/pprof

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	err = manager.Run(ctx, manager.Options{Config: cfg, DataDir: *dataDir, Log: logger,
		Passwords: core.InitialPasswords{}})
	if err != nil {
		log.Fatal(err)
	}
}
