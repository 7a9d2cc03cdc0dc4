// Package handler holds in-process benchmarks of the API handler: the cost
// of one request without TLS, sockets or wrk, so that a change to a handler
// or to the JSON encoder can be measured and profiled in seconds:
//
//	go test -run '^$' -bench . -benchmem -cpuprofile /tmp/cpu.out ./bench/handler/
//	go tool pprof -top -cum /tmp/cpu.out
//
// The figures that count are bench/api.sh's (docs/benchmarks.md); these are
// for iterating on a fix.
package handler
