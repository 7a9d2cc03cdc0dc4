package file

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/coverage"
)

// BenchmarkFetchCSV1M reads a 1,000,000-row export with every field mapped.
func BenchmarkFetchCSV1M(b *testing.B) {
	const rows = 1_000_000
	dir := b.TempDir()
	path := filepath.Join(dir, "inventory.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "id,hostname,serial,mac,ip,os,groups,last_seen,state,owner")
	base := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		fmt.Fprintf(w, "%d,host-%07d.corp.example,SN%09d,02:00:%02x:%02x:%02x:%02x,10.%d.%d.%d,Ubuntu 24.04,servers;site-%d,%s,%s,team-%d\n",
			i, i, i, byte(i>>24), byte(i>>16), byte(i>>8), byte(i), byte(i>>16), byte(i>>8), byte(i), i%10,
			base.Add(time.Duration(i)*time.Second).Format(time.RFC3339), []string{"active", "offline"}[i%2], i%50)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	var node yaml.Node
	doc := "name: cmdb\nkind: file\npath: inventory.csv\ncolumns: {id: id, hostname: hostname, serial: serial, mac: mac, ip: ip, os: os, groups: groups, last_seen: last_seen, state: state}\n"
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		b.Fatal(err)
	}
	src, err := New(node.Content[0], coverage.Env{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fetch", func(b *testing.B) {
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			recs, err := src.Fetch(context.Background(), nil)
			if err != nil || len(recs) != rows {
				b.Fatalf("%d records, %v", len(recs), err)
			}
		}
	})
}
