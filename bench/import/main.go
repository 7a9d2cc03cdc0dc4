// Command import times `muster import` of a generated Wazuh registry: a
// global.db (db_version 7 layout) and a client.keys of -n agents.
//
//	go run ./bench/import -n 100000
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/muster-project/muster/internal/importer"
	_ "modernc.org/sqlite"
)

// The tables the importer reads, with the columns of a 4.14 global.db.
const schema = `
CREATE TABLE agent (id INTEGER PRIMARY KEY, name TEXT NOT NULL, ip TEXT, register_ip TEXT, internal_key TEXT,
 os_name TEXT, os_version TEXT, os_major TEXT, os_minor TEXT, os_codename TEXT, os_build TEXT, os_platform TEXT,
 os_uname TEXT, os_arch TEXT, version TEXT, config_sum TEXT, merged_sum TEXT, manager_host TEXT,
 node_name TEXT DEFAULT 'unknown', date_add INTEGER NOT NULL, last_keepalive INTEGER, "group" TEXT DEFAULT 'default',
 group_hash TEXT, group_sync_status TEXT NOT NULL DEFAULT 'synced', sync_status TEXT NOT NULL DEFAULT 'synced',
 connection_status TEXT NOT NULL DEFAULT 'never_connected', disconnection_time INTEGER DEFAULT 0,
 group_config_status TEXT NOT NULL DEFAULT 'not synced', status_code INTEGER DEFAULT 0);
CREATE TABLE "group" (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, UNIQUE (name));
CREATE TABLE belongs (id_agent INTEGER, id_group INTEGER, priority INTEGER NOT NULL DEFAULT 0,
 UNIQUE (id_agent, priority), PRIMARY KEY (id_agent, id_group));
CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO metadata VALUES ('db_version', '7');
INSERT INTO "group" (name) VALUES ('default'), ('web'), ('db');
`

func main() {
	n := flag.Int("n", 100000, "agents")
	dir := flag.String("dir", "", "work folder (default: a temporary one, removed after)")
	flag.Parse()
	work := *dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "muster-import-bench-"); err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(work)
	}
	src := filepath.Join(work, "ossec")
	t0 := time.Now()
	if err := generate(src, *n); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("generated %d agents in %v\n", *n, time.Since(t0).Round(time.Millisecond))
	target := filepath.Join(work, "data")
	os.RemoveAll(target)
	t1 := time.Now()
	p, err := importer.Run(context.Background(), importer.Options{From: src, DataDir: target, Out: io.Discard})
	if err != nil {
		log.Fatal(err)
	}
	d := time.Since(t1)
	fmt.Printf("imported %d agents (%d groups) in %v (target < 10s)\n", len(p.Agents), len(p.Groups), d.Round(time.Millisecond))
}

func generate(src string, n int) error {
	if err := os.MkdirAll(filepath.Join(src, "queue", "db"), 0o700); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(src, "etc"), 0o700); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", filepath.Join(src, "queue", "db", "global.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec(schema); err != nil {
		return err
	}
	kf, err := os.Create(filepath.Join(src, "etc", "client.keys"))
	if err != nil {
		return err
	}
	defer kf.Close()
	w := bufio.NewWriter(kf)
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	ins, err := tx.Prepare(`INSERT INTO agent (id, name, ip, register_ip, internal_key, os_name, os_version, os_major,
		os_minor, os_codename, os_platform, os_uname, os_arch, version, config_sum, merged_sum, manager_host, node_name,
		date_add, last_keepalive, "group", group_hash, connection_status, disconnection_time, group_config_status,
		status_code) VALUES (?, ?, ?, 'any', ?, 'Ubuntu', '22.04.4 LTS', '22', '04', 'Jammy Jellyfish', 'ubuntu',
		?, 'x86_64', 'Wazuh v4.14.7', 'ab12', 'cd34', 'wazuh-manager', 'node01', ?, ?, ?, ?, ?, ?, 'synced', ?)`)
	if err != nil {
		return err
	}
	bel, err := tx.Prepare(`INSERT INTO belongs VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	groups := []string{"default", "web", "db"}
	hashes := []string{"37a8eec1", "4b5e57f6", "7bdc25d1"}
	statuses := []string{"active", "disconnected", "pending", "active"}
	raw := make([]byte, 32)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := 1; i <= n; i++ {
		rand.Read(raw)
		key := hex.EncodeToString(raw)
		name := fmt.Sprintf("host-%06d", i)
		g := i % 3
		st := statuses[i%4]
		disc, code := int64(0), 0
		if st == "disconnected" {
			disc, code = base+int64(i)+700, 4
		}
		if _, err := ins.Exec(i, name, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), key,
			"Linux |"+name+" |5.15.0 |#1 SMP |x86_64", base+int64(i), base+int64(i)+60, groups[g], hashes[g],
			st, disc, code); err != nil {
			return err
		}
		if _, err := bel.Exec(i, g+1, 0); err != nil {
			return err
		}
		fmt.Fprintf(w, "%03d %s any %s\n", i, name, key)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return nil
}
