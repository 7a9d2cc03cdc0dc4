package core

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/muster-project/muster/internal/groupfs"
)

// keysFile keeps WAZUH_HOME/etc/client.keys in step with the store, in
// Wazuh's format ("<id> <name> <ip> <key>" per line, mode 0600).
//
// Enrollments append their lines: the enrollment writer hands over every
// batch committed meanwhile, and they go out in one write on a file handle
// kept open; a background syncer fsyncs it shortly after (syncDelay), so
// registering never costs a rewrite of a file that holds 100,000 agents nor
// an fsync in the request's path. Anything that removes or replaces a line
// (deletions, forced replacement, another node's changes, a failed append)
// rewrites the whole file from the store atomically: temporary file, fsync,
// rename. The store stays authoritative: the file is rebuilt from it at
// every start, so a crash between an append and its fsync loses nothing.
type keysFile struct {
	path  string
	store AgentStore
	log   *slog.Logger
	kick  chan struct{} // wakes the syncer

	mu       sync.Mutex
	ids      map[int]struct{} // agents whose line is in the file
	version  int64            // registry version of the last rewrite
	dirty    bool             // the file missed a change
	f        *os.File         // append handle of the current file
	unsynced bool             // appended since the last fsync
}

// syncDelay is how long appends may wait for their fsync.
const syncDelay = 20 * time.Millisecond

func newKeysFile(path string, store AgentStore, log *slog.Logger) *keysFile {
	return &keysFile{path: path, store: store, log: log, kick: make(chan struct{}, 1)}
}

func keyLine(b *bytes.Buffer, e KeyEntry) {
	b.WriteString(FormatAgentID(e.ID))
	b.WriteByte(' ')
	b.WriteString(e.Name)
	b.WriteByte(' ')
	b.WriteString(e.IP)
	b.WriteByte(' ')
	b.WriteString(e.Key)
	b.WriteByte('\n')
}

// rewrite writes the whole file from the store.
func (k *keysFile) rewrite(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.rewriteLocked(ctx)
}

func (k *keysFile) rewriteLocked(ctx context.Context) error {
	k.closeLocked()
	entries, version, err := k.store.KeyEntries(ctx)
	if err != nil {
		k.dirty = true
		return err
	}
	var b bytes.Buffer
	b.Grow(len(entries) * 96)
	ids := make(map[int]struct{}, len(entries))
	for _, e := range entries {
		keyLine(&b, e)
		ids[e.ID] = struct{}{}
	}
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		k.dirty = true
		return err
	}
	if err := groupfs.WriteFileAtomic(k.path, b.Bytes(), 0o600); err != nil {
		k.dirty = true
		return err
	}
	k.ids, k.version, k.dirty = ids, version, false
	return nil
}

// closeLocked syncs and closes the append handle (the file is about to be replaced).
func (k *keysFile) closeLocked() {
	if k.f == nil {
		return
	}
	if k.unsynced {
		k.f.Sync()
	}
	k.f.Close()
	k.f, k.unsynced = nil, false
}

// add appends the lines of new agents in one write; lines already present
// (a rewrite got there first) are skipped. The syncer fsyncs them.
func (k *keysFile) add(ctx context.Context, entries []KeyEntry) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dirty || k.ids == nil {
		return k.rewriteLocked(ctx)
	}
	var b bytes.Buffer
	var added []int
	for _, e := range entries {
		if _, ok := k.ids[e.ID]; ok {
			continue
		}
		keyLine(&b, e)
		added = append(added, e.ID)
	}
	if b.Len() == 0 {
		return nil
	}
	err := k.appendLocked(b.Bytes())
	if err != nil {
		k.log.Error("client.keys append failed; rewriting it", "err", err)
		return k.rewriteLocked(ctx)
	}
	for _, id := range added {
		k.ids[id] = struct{}{}
	}
	select {
	case k.kick <- struct{}{}:
	default:
	}
	return nil
}

func (k *keysFile) appendLocked(data []byte) error {
	if k.f == nil {
		f, err := os.OpenFile(k.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		k.f = f
	}
	if _, err := k.f.Write(data); err != nil {
		k.closeLocked()
		return err
	}
	k.unsynced = true
	return nil
}

// runSyncer fsyncs appended lines shortly after they are written, and
// closes the file when ctx ends.
func (k *keysFile) runSyncer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			k.mu.Lock()
			k.closeLocked()
			k.mu.Unlock()
			return
		case <-k.kick:
		}
		select {
		case <-time.After(syncDelay):
		case <-ctx.Done():
		}
		k.mu.Lock()
		if k.f != nil && k.unsynced {
			if err := k.f.Sync(); err != nil {
				k.log.Error("client.keys fsync failed; it will be rewritten", "err", err)
				k.dirty = true
			}
			k.unsynced = false
		}
		k.mu.Unlock()
	}
}

// follow rewrites the file when the store's registry changed since the last
// rewrite (another node enrolled or removed agents).
func (k *keysFile) follow(ctx context.Context) error {
	v, err := k.store.RegistryVersion(ctx)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if v == k.version && !k.dirty {
		return nil
	}
	return k.rewriteLocked(ctx)
}

// keyBase64Line is the line an agent stores, as POST /agents returns it
// (before base64).
func keyBase64Line(id int, name, ip, key string) string {
	return FormatAgentID(id) + " " + name + " " + ip + " " + key
}

// encodeKeyLine is the base64 form the API hands to agents.
func encodeKeyLine(line string) string { return base64.StdEncoding.EncodeToString([]byte(line)) }
