package meshcentral

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/muster-project/muster/internal/connauth"
)

// errDropped marks a connection that ended under a request: the server
// closed it or the network broke. Fetch dials once more on a kept
// connection that dropped.
var errDropped = errors.New("connection to MeshCentral lost")

// wsConn is one logged-in websocket. A reader goroutine reads every
// message as it comes (so pings are answered between --watch runs too),
// hands answers to the request waiting for them and drops the rest.
type wsConn struct {
	ws   *websocket.Conn
	done chan struct{} // closed when the reader stopped
	err  error         // why it stopped; set before done is closed
	ids  atomic.Int64

	mu      sync.Mutex
	waiters map[waitKey]*waiter
}

// waitKey finds the request an answer belongs to: by the responseid the
// server echoes (nodes, meshes) or by action and device (lastconnect and
// getnetworkinfo echo only the nodeid).
type waitKey struct {
	responseID string
	action     string
	nodeID     string
}

type waiter struct {
	keys []waitKey
	ch   chan []byte // buffered: the reader never blocks
}

// dial opens and logs in a websocket. The login's outcome shows in the
// first messages: a refusal is a "close" message after the upgrade.
func (s *Source) dial(ctx context.Context) (*wsConn, error) {
	password, err := s.conn.Password(s.env)
	if err != nil {
		return nil, err
	}
	hdr := http.Header{}
	hdr.Set("x-meshauth", base64.StdEncoding.EncodeToString([]byte(s.user))+","+base64.StdEncoding.EncodeToString([]byte(password)))
	dctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, s.url, &websocket.DialOptions{HTTPClient: s.http, HTTPHeader: hdr})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("connecting to %s: HTTP %d %s instead of a websocket; is url a MeshCentral server (and its domain path)?", s.url, resp.StatusCode, http.StatusText(resp.StatusCode))
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("connecting to %s: %w", s.url, err)
	}
	ws.SetReadLimit(s.maxMsg)
	c := &wsConn{ws: ws, done: make(chan struct{}), waiters: map[waitKey]*waiter{}}
	s.mu.Lock()
	s.dials++
	s.mu.Unlock()
	go c.read(s.maxMsg)
	s.log.Debug("meshcentral: connected", "source", s.name, "url", s.url, "user", s.user)
	return c, nil
}

// read runs until the connection ends.
func (c *wsConn) read(limit int64) {
	for {
		typ, b, err := c.ws.Read(context.Background())
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrMessageTooBig):
				c.stop(fmt.Errorf("MeshCentral sent a message larger than %d MiB; the answer is too big to read", limit>>20))
			case websocket.CloseStatus(err) != -1:
				c.stop(fmt.Errorf("%w: the server closed the websocket (%v)", errDropped, err))
			default:
				c.stop(fmt.Errorf("%w: %v", errDropped, err))
			}
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		env, err := parseEnvelope(b)
		if err != nil {
			c.stop(err)
			return
		}
		if env.Action == "close" {
			c.stop(closeError(env))
			return
		}
		c.deliver(env, b)
	}
}

// deliver hands b to the request it answers; unsolicited messages (events,
// serverinfo, userinfo, answers nobody waits for any more) are dropped.
func (c *wsConn) deliver(env envelope, b []byte) {
	c.mu.Lock()
	w := c.waiters[waitKey{responseID: env.ResponseID}]
	if env.ResponseID == "" || w == nil {
		w = c.waiters[waitKey{action: env.Action, nodeID: env.NodeID}]
	}
	if w != nil {
		for _, k := range w.keys {
			delete(c.waiters, k)
		}
	}
	c.mu.Unlock()
	if w != nil {
		w.ch <- b
	}
}

// stop records why the connection ended (the first reason wins) and ends it.
func (c *wsConn) stop(err error) {
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		return
	default:
	}
	c.err = err
	close(c.done)
	c.mu.Unlock()
	c.ws.CloseNow()
}

// alive says whether the reader still runs.
func (c *wsConn) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// close ends the connection politely.
func (c *wsConn) close() error {
	if !c.alive() {
		return nil
	}
	// The close handshake's own failure says nothing useful: the
	// connection is gone either way.
	_ = c.ws.Close(websocket.StatusNormalClosure, "")
	c.stop(errors.New("the source was closed"))
	return nil
}

// ask sends req and waits for its answer, at most timeout and while ctx
// lasts. action and nodeID are what the answer carries back.
func (c *wsConn) ask(ctx context.Context, timeout time.Duration, req map[string]any) ([]byte, error) {
	action, _ := req["action"].(string)
	nodeID, _ := req["nodeid"].(string)
	rid := "muster-" + strconv.FormatInt(c.ids.Add(1), 10)
	req["responseid"] = rid
	w := &waiter{keys: []waitKey{{responseID: rid}, {action: action, nodeID: nodeID}}, ch: make(chan []byte, 1)}
	c.mu.Lock()
	if !c.alive() {
		c.mu.Unlock()
		return nil, c.err
	}
	if _, dup := c.waiters[w.keys[1]]; dup {
		c.mu.Unlock()
		return nil, fmt.Errorf("internal: two %s requests for %q at once", action, nodeID)
	}
	for _, k := range w.keys {
		c.waiters[k] = w
	}
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		for _, k := range w.keys {
			if c.waiters[k] == w {
				delete(c.waiters, k)
			}
		}
		c.mu.Unlock()
	}
	b, err := json.Marshal(req)
	if err != nil {
		forget()
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.ws.Write(wctx, websocket.MessageText, b); err != nil {
		forget()
		select {
		case <-c.done:
			return nil, c.err
		default:
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if wctx.Err() != nil {
			return nil, fmt.Errorf("sending %s: no progress in %s (timeout); the server or the network is stuck", action, timeout)
		}
		return nil, fmt.Errorf("%w: sending %s: %v", errDropped, action, err)
	}
	select {
	case b := <-w.ch:
		return b, nil
	case <-c.done:
		forget()
		select { // an answer may have come just before the end
		case b := <-w.ch:
			return b, nil
		default:
		}
		return nil, c.err
	case <-wctx.Done():
		forget()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		what := action
		if nodeID != "" {
			what += " of " + nodeID
		}
		return nil, fmt.Errorf("no answer to %s within %s (timeout); raise timeout if the server is slow", what, timeout)
	}
}

// closeError is the error of a "close" message: the server refused the
// session and ends the websocket.
func closeError(env envelope) error {
	detail := env.Cause
	if env.Msg != "" {
		detail += ", " + env.Msg
	}
	switch env.Cause {
	case "noauth", "expired":
		hint := "check user and the password (a login token's user is ~t:...; it may have expired or been removed)"
		if env.Msg == "tokenrequired" {
			hint = "the account needs a second factor: create a login token for it (meshctrl logintokens --add) and use its ~t:... user and password"
		}
		return fmt.Errorf("%w (%s): %s; muster does not retry it, because ten bad logins in ten minutes get this whole network banned", connauth.ErrLoginRefused, detail, hint)
	case "banned":
		return fmt.Errorf("%w (%s): MeshCentral refuses every login from this address's network for now, after too many failed logins; retry in about 10 minutes and check the credentials of other clients on this network", ErrBanned, detail)
	}
	return fmt.Errorf("MeshCentral refused the session (%s); check the account's settings on the server", detail)
}
