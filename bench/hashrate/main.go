// Command hashrate measures what the password hash allows: the time of one
// scrypt check with muster's default Werkzeug parameters (N=32768, r=8, p=1),
// the fastest of -n samples since other work on the machine only adds time,
// and the checks per second that -workers goroutines reach together.
// bench/api.sh derives the login target from it: cores / time of one check.
package main

import (
	"flag"
	"fmt"
	"log"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/auth"
)

func main() {
	n := flag.Int("n", 15, "single-hash samples (the fastest is the hash's cost: other work only adds time)")
	workers := flag.Int("workers", runtime.NumCPU(), "goroutines for the parallel figure")
	dur := flag.Duration("parallel", 3*time.Second, "duration of the parallel run")
	flag.Parse()

	hash, err := auth.HashPassword("wazuh")
	if err != nil {
		log.Fatal(err)
	}
	if !auth.CheckPassword(hash, "wazuh") { // warm up
		log.Fatal("hash does not verify")
	}
	samples := make([]time.Duration, *n)
	for i := range samples {
		t := time.Now()
		auth.CheckPassword(hash, "wazuh")
		samples[i] = time.Since(t)
	}
	slices.Sort(samples)
	one, median := samples[0], samples[len(samples)/2]

	var done atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(*dur)
	start := time.Now()
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				auth.CheckPassword(hash, "wazuh")
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	par := float64(done.Load()) / time.Since(start).Seconds()

	// Machine-readable lines for bench/api.sh, then a human summary.
	fmt.Printf("hash_ms %.2f\n", float64(one.Microseconds())/1000)
	fmt.Printf("median_ms %.2f\n", float64(median.Microseconds())/1000)
	fmt.Printf("cores %d\n", runtime.NumCPU())
	fmt.Printf("theoretical_per_s %.2f\n", float64(runtime.NumCPU())/one.Seconds())
	fmt.Printf("parallel_per_s %.2f\n", par)
	fmt.Printf("parallel_workers %d\n", *workers)
}
