//go:build unix

package htmlreport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// chromiumEnv names the Chromium binary for the browser tests; without it
// they use Debian's /usr/bin/chromium, and skip when that is absent.
const chromiumEnv = "MUSTER_TEST_CHROMIUM"

// browser is a headless Chromium started for one test, with one page
// driven over the Chrome DevTools Protocol.
type browser struct {
	conn   *websocket.Conn
	next   int
	events []cdpMessage
}

// cdpMessage is a command's answer (ID set) or an event (Method set).
type cdpMessage struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// startBrowser starts Chromium in its own process group, killed with the
// whole group when the test ends, and attaches to its first page.
func startBrowser(ctx context.Context, t *testing.T) *browser {
	t.Helper()
	bin := os.Getenv(chromiumEnv)
	if bin == "" {
		bin = "/usr/bin/chromium"
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("no Chromium at %s: set %s to a Chromium or Chrome binary to run the browser test", bin, chromiumEnv)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--window-size=1280,2000", "--user-data-dir="+dir, "--remote-debugging-port=0", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s (set %s to another binary): %v", bin, chromiumEnv, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group: renderers and zygote too
		<-exited
	})

	port, err := devToolsPort(ctx, filepath.Join(dir, "DevToolsActivePort"), exited)
	if err != nil {
		t.Fatalf("Chromium did not open its DevTools port: %v", err)
	}
	ws, err := pageSocket(ctx, port)
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := websocket.Dial(ctx, ws, nil)
	if err != nil {
		t.Fatalf("dialling the page's DevTools socket %s: %v", ws, err)
	}
	conn.SetReadLimit(256 << 20) // screenshots and page text are large
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &browser{conn: conn}
}

// devToolsPort polls for the file Chromium writes once it listens, until ctx ends.
func devToolsPort(ctx context.Context, path string, exited <-chan struct{}) (string, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			if port, _, ok := strings.Cut(string(b), "\n"); ok && port != "" {
				return port, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-exited:
			return "", errors.New("the browser exited")
		case <-tick.C:
		}
	}
}

// pageSocket finds the DevTools websocket of the browser's first page.
func pageSocket(ctx context.Context, port string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/json/list", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("listing the browser's targets: %w", err)
	}
	defer resp.Body.Close()
	var targets []struct{ Type, WebSocketDebuggerURL string }
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
		return "", fmt.Errorf("reading the browser's targets: %w", err)
	}
	for _, tg := range targets {
		if tg.Type == "page" && tg.WebSocketDebuggerURL != "" {
			return tg.WebSocketDebuggerURL, nil
		}
	}
	return "", fmt.Errorf("the browser lists no page among %d targets", len(targets))
}

// call sends one command and reads until its answer, keeping the events that arrive meanwhile.
func (b *browser) call(ctx context.Context, method string, params any, result any) error {
	b.next++
	id := b.next
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	if err := b.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	for {
		m, err := b.read(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		if m.ID != id {
			continue
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %d %s", method, m.Error.Code, m.Error.Message)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(m.Result, result)
	}
}

// waitEvent returns the first event named method since the events were last cleared.
func (b *browser) waitEvent(ctx context.Context, method string) error {
	for _, e := range b.events {
		if e.Method == method {
			return nil
		}
	}
	for {
		m, err := b.read(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", method, err)
		}
		if m.Method == method {
			return nil
		}
	}
}

func (b *browser) read(ctx context.Context) (cdpMessage, error) {
	_, data, err := b.conn.Read(ctx)
	if err != nil {
		return cdpMessage{}, err
	}
	var m cdpMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("a DevTools message is not JSON: %w", err)
	}
	if m.Method != "" {
		b.events = append(b.events, m)
	}
	return m, nil
}

// load navigates to url and waits for its load event, with every error
// reporter on; it returns what went wrong while the page loaded.
func (b *browser) load(ctx context.Context, url string) ([]string, error) {
	for _, domain := range []string{"Runtime", "Log", "Page", "Network"} {
		if err := b.call(ctx, domain+".enable", map[string]any{}, nil); err != nil {
			return nil, err
		}
	}
	b.events = nil
	var nav struct{ ErrorText string }
	if err := b.call(ctx, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return nil, err
	}
	if nav.ErrorText != "" {
		return nil, fmt.Errorf("navigating to %s: %s", url, nav.ErrorText)
	}
	if err := b.waitEvent(ctx, "Page.loadEventFired"); err != nil {
		return nil, err
	}
	// One more round trip: anything the page logged before it is now read.
	if _, err := b.eval(ctx, "1"); err != nil {
		return nil, err
	}
	return b.problems(), nil
}

// problems lists script errors, error-level logs and failed loads among the events.
func (b *browser) problems() []string {
	var out []string
	for _, e := range b.events {
		var p struct {
			Type             string
			ErrorText        string
			BlockedReason    string
			Entry            struct{ Level, Text, URL string }
			Args             []struct{ Value any }
			ExceptionDetails struct {
				Text      string
				Exception struct{ Description string }
			}
		}
		_ = json.Unmarshal(e.Params, &p)
		switch {
		case e.Method == "Runtime.exceptionThrown":
			out = append(out, "exception: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
		case e.Method == "Runtime.consoleAPICalled" && (p.Type == "error" || p.Type == "assert"):
			out = append(out, fmt.Sprintf("console.%s: %v", p.Type, p.Args))
		case e.Method == "Log.entryAdded" && p.Entry.Level == "error":
			out = append(out, "log: "+p.Entry.Text+" "+p.Entry.URL)
		case e.Method == "Network.loadingFailed":
			out = append(out, "load failed: "+p.ErrorText+" "+p.BlockedReason)
		}
	}
	return out
}

// eval runs a JavaScript expression in the page and returns its JSON value.
func (b *browser) eval(ctx context.Context, expr string) (json.RawMessage, error) {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct{ Text string } `json:"exceptionDetails"`
	}
	if err := b.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res); err != nil {
		return nil, err
	}
	if res.ExceptionDetails != nil {
		return nil, fmt.Errorf("evaluating %q: %s", expr, res.ExceptionDetails.Text)
	}
	return res.Result.Value, nil
}
