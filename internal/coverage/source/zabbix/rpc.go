package zabbix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/connauth"
)

// DefaultMaxBody bounds one JSON-RPC answer. The biggest answer is the list
// of host ids (about 20 bytes a host), so this leaves room for millions of hosts.
const DefaultMaxBody = 64 << 20

// rpcError is a JSON-RPC error object as Zabbix sends it: code, a generic
// message and the real reason in data.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data"`
}

func (e *rpcError) Error() string {
	s := strings.TrimSuffix(e.Message, ".")
	if e.Data != "" {
		s += ": " + e.Data
	}
	return fmt.Sprintf("%s (code %d)", s, e.Code)
}

// Zabbix puts every refusal in data; the codes are shared with unrelated errors.
const (
	dataSessionEnded  = "Session terminated, re-login, please."
	dataNotAuthorized = "Not authorized."
	dataTokenExpired  = "API token expired."
	codeApplication   = -32500
)

// authRefused says whether the server refused the credential a call carried.
func (e *rpcError) authRefused() bool {
	switch e.Data {
	case dataSessionEnded, dataNotAuthorized, dataTokenExpired:
		return true
	}
	return false
}

// rpcRequest is the envelope of one call. Auth is omitted when empty:
// apiinfo.version and user.login are refused when they carry one.
type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
	Auth    string `json:"auth,omitempty"`
	ID      int64  `json:"id"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result"`
	Error   *rpcError       `json:"error"`
	ID      json.RawMessage `json:"id"`
}

// client speaks JSON-RPC to one api_jsonrpc.php.
type client struct {
	url     string // the endpoint, without user info
	tr      *connauth.Transport
	maxBody int64
	header  atomic.Bool // send the credential as a Bearer header (6.4 and later) instead of in the body
	ids     atomic.Int64
	now     func() time.Time
}

// answer is a decoded result and when it arrived.
type answer struct {
	readAt time.Time
}

// call sends method with params and decodes the result into out. auth is
// the session id or API token ("" for none). A JSON-RPC error is returned as
// a *rpcError wrapped with the method's name. idempotent says whether the
// transport may resend it.
func (c *client) call(ctx context.Context, method string, params any, auth string, idempotent bool, out any) (answer, error) {
	id := c.ids.Add(1)
	req := rpcRequest{JSONRPC: "2.0", Method: method, Params: params, ID: id}
	header := c.header.Load()
	if !header {
		req.Auth = auth
	}
	body, err := json.Marshal(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s: encoding the request: %w", method, err)
	}
	resp, err := c.tr.Do(ctx, idempotent, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/json-rpc")
		r.Header.Set("Accept", "application/json")
		if header && auth != "" {
			r.Header.Set("Authorization", "Bearer "+auth)
		}
		return r, nil
	})
	if err != nil {
		return answer{}, fmt.Errorf("%s: POST %s: %w", method, c.url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	a := answer{readAt: c.clock()}
	if err != nil {
		return a, fmt.Errorf("%s: reading the answer of %s: %w", method, c.url, err)
	}
	if int64(len(raw)) > c.maxBody {
		return a, fmt.Errorf("%s: the answer of %s is larger than %d MiB; is url the Zabbix API (api_jsonrpc.php)?", method, c.url, c.maxBody>>20)
	}
	if resp.StatusCode != http.StatusOK {
		return a, fmt.Errorf("%s: %s answered %w; check url (it should end in api_jsonrpc.php)", method, c.url,
			&connauth.StatusError{Status: resp.StatusCode, Body: connauth.Snippet(raw)})
	}
	res, err := decodeResponse(raw, id)
	if err != nil {
		return a, fmt.Errorf("%s: %s: %w", method, c.url, err)
	}
	if res.Error != nil {
		return a, fmt.Errorf("%s: Zabbix refused the call: %w", method, res.Error)
	}
	if out != nil {
		if err := json.Unmarshal(res.Result, out); err != nil {
			return a, fmt.Errorf("%s: %s: the result does not have the expected shape: %v", method, c.url, err)
		}
	}
	return a, nil
}

func (c *client) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// errNotJSONRPC marks an answer that is not a Zabbix JSON-RPC answer at all.
var errNotJSONRPC = errors.New("not a JSON-RPC answer")

// decodeResponse checks that raw is one complete JSON-RPC answer to call id.
func decodeResponse(raw []byte, id int64) (*rpcResponse, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: the body is empty; is url the Zabbix API (api_jsonrpc.php)?", errNotJSONRPC)
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: the body starts with %q; is url the Zabbix API (api_jsonrpc.php), not a web page or a proxy's error page?",
			errNotJSONRPC, connauth.Snippet(trimmed[:min(len(trimmed), 60)]))
	}
	var res rpcResponse
	if err := json.Unmarshal(trimmed, &res); err != nil {
		return nil, fmt.Errorf("%w: the body (%d bytes) is not complete JSON (%v); the answer may have been cut short, try again",
			errNotJSONRPC, len(raw), err)
	}
	if res.JSONRPC != "2.0" {
		return nil, fmt.Errorf("%w: no \"jsonrpc\": \"2.0\" in it; is url the Zabbix API (api_jsonrpc.php)?", errNotJSONRPC)
	}
	if res.Error == nil && len(res.Result) == 0 {
		return nil, fmt.Errorf("%w: it has neither a result nor an error", errNotJSONRPC)
	}
	var got int64
	if res.Error == nil {
		if err := json.Unmarshal(res.ID, &got); err != nil || got != id {
			return nil, fmt.Errorf("%w: it answers request id %s, not %d", errNotJSONRPC, connauth.Snippet(res.ID), id)
		}
	}
	return &res, nil
}
