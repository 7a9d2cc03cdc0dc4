package remoted

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

// pushWorkers is the size of the sender pool (remoted.sender_pool is 8).
const pushWorkers = 4

// udpChunkPause paces shared-file chunks over UDP, as remoted sleeps after
// every 30 or so chunks so that datagrams are not lost.
const (
	udpChunkBurst = 30
	udpChunkPause = time.Second
)

// sharedFile is a group's (or multigroup's) merged.mg, ready to push.
type sharedFile struct {
	sum      string
	payloads [][]byte // "#!-up file", the chunks, "#!-close file "
	loaded   time.Time
	gen      uint64 // the source's generation it was built from
}

// generationer is implemented by sources whose files may change behind the
// cache (core.Agents, following other nodes): a new generation makes every
// cached file stale at once instead of after SharedReload.
type generationer interface {
	SharedGeneration() uint64
}

// sharedCache keeps the merged.mg of each group list for SharedReload.
type sharedCache struct {
	src    Shared
	reload time.Duration
	mu     sync.Mutex
	m      map[string]*sharedFile
}

func newSharedCache(src Shared, reload time.Duration) *sharedCache {
	return &sharedCache{src: src, reload: reload, m: map[string]*sharedFile{}}
}

// get returns the merged file of a group list, rebuilding it when stale; nil
// when it cannot be built.
func (c *sharedCache) get(groups []string) *sharedFile {
	key := strings.Join(groups, ",")
	var gen uint64
	if g, ok := c.src.(generationer); ok {
		gen = g.SharedGeneration()
	}
	c.mu.Lock()
	f := c.m[key]
	c.mu.Unlock()
	if f != nil && time.Since(f.loaded) < c.reload && f.gen == gen {
		return f
	}
	content, err := c.build(groups)
	if err != nil {
		return f // keep serving the last good one, if any
	}
	payloads, err := agentproto.FilePush(agentproto.MergedFileName, content)
	if err != nil {
		return f
	}
	sum := md5.Sum(content)
	f = &sharedFile{sum: hex.EncodeToString(sum[:]), payloads: payloads, loaded: time.Now(), gen: gen}
	c.mu.Lock()
	c.m[key] = f
	c.mu.Unlock()
	return f
}

// build returns the merged.mg of a group list, as is_sync checks it.
func (c *sharedCache) build(groups []string) ([]byte, error) { return c.src.MergedFile(groups) }

// push is one merged.mg transfer to one agent.
type push struct {
	st   *agentState
	file *sharedFile
}

// queuePush schedules a transfer unless one is already under way.
func (s *Server) queuePush(st *agentState, f *sharedFile) {
	st.mu.Lock()
	busy := st.pushing
	st.pushing = true
	st.mu.Unlock()
	if busy {
		return
	}
	select {
	case s.pushes <- push{st, f}:
	default:
		st.mu.Lock()
		st.pushing = false // the pool is saturated: the next keepalive retries
		st.mu.Unlock()
	}
}

// pushLoop is one sender of the pool.
func (s *Server) pushLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-s.pushes:
			s.sendFile(ctx, p)
			p.st.mu.Lock()
			p.st.pushing = false
			p.st.mu.Unlock()
		}
	}
}

// sendFile writes the announcement, the chunks and the close message.
func (s *Server) sendFile(ctx context.Context, p push) {
	for i, payload := range p.file.payloads {
		if err := s.sendTo(p.st, payload, true); err != nil {
			s.log.Debug("remoted: merged.mg transfer interrupted", "agent", p.st.idText, "err", err)
			return
		}
		s.stats.SentShared.Add(1)
		if _, _, us, _ := p.st.replyPath(); us != nil && i > 0 && i%udpChunkBurst == 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(udpChunkPause):
			}
		}
	}
	s.stats.Pushes.Add(1)
	s.log.Debug("remoted: merged.mg sent", "agent", p.st.idText, "sum", p.file.sum)
}
