//go:build unix

package htmlreport

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// screenshotEnv, when set, names a PNG file the browser test saves the
// rendered report to, for people (and CI artifacts) to look at.
const screenshotEnv = "MUSTER_TEST_HTMLREPORT_SCREENSHOT"

func fileURL(path string) string { return (&url.URL{Scheme: "file", Path: path}).String() }

// TestBrowserCatchesBrokenPages proves the harness below can fail: a page
// with a script error, an error log and a missing image is reported.
func TestBrowserCatchesBrokenPages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := startBrowser(ctx, t)
	page := filepath.Join(t.TempDir(), "broken.html")
	html := `<!DOCTYPE html><title>broken</title><img src="missing.png"><script>console.error("bad");throw new Error("boom")</script>`
	if err := os.WriteFile(page, []byte(html), 0o600); err != nil {
		t.Fatal(err)
	}
	problems, err := b.load(ctx, fileURL(page))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(problems, "\n")
	for _, want := range []string{"exception:", "boom", "console.error", "load failed: net::ERR_FILE_NOT_FOUND"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q; got:\n%s", want, all)
		}
	}
}

// TestBrowserRendersReport loads a written report in headless Chromium:
// nothing fails to load or run, and the page shows the run's figures.
func TestBrowserRendersReport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := startBrowser(ctx, t)
	page := filepath.Join(t.TempDir(), "coverage.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(f, sampleReport()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	problems, err := b.load(ctx, fileURL(page))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("the page had problems while loading:\n%s", strings.Join(problems, "\n"))
	}

	var text string
	mustEval(ctx, t, b, "document.body.innerText", &text)
	for _, want := range []string{
		"Not covered.", "Exit code 1", "44\ndevices", "2 of 3", "83.7%", "skipped: falcon is unavailable",
		"db02.corp", "web01.corp", hostile, "Missing agent (1)", "Silent failure (1)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered text lacks %q", want)
		}
	}
	var sources []string
	mustEval(ctx, t, b, `Array.from(document.querySelectorAll("#sources tbody tr")).map(r => r.innerText.replace(/\s+/g, " ").trim())`, &sources)
	wantRows := []string{"wazuh wazuh ok 41 40 0 1.50 s", "mesh meshcentral ok 38 37 1 0.75 s",
		"falcon crowdstrike unavailable POST /oauth2/token: 401 invalid client <b>x</b> 0 0 0 0.00 s"}
	if strings.Join(sources, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("sources table shows\n%s\nwant\n%s", strings.Join(sources, "\n"), strings.Join(wantRows, "\n"))
	}

	// The page runs no script, loads nothing, and its charts and bars have a size on screen.
	var shape struct {
		Scripts, Images, Lines, Bars int
		BarWidth, Reason             float64
		ReasonColor                  string
	}
	mustEval(ctx, t, b, `({
		scripts: document.scripts.length, images: document.images.length,
		lines: document.querySelectorAll("svg.chart polyline").length,
		bars: document.querySelectorAll("svg.chart rect[height]").length,
		barWidth: document.querySelector(".bar > span").getBoundingClientRect().width /
			document.querySelector(".bar").getBoundingClientRect().width,
		reasonColor: getComputedStyle(document.querySelector("#sources .reason")).color,
	})`, &shape)
	if shape.Scripts != 0 || shape.Images != 0 {
		t.Errorf("page has %d scripts and %d images, want none", shape.Scripts, shape.Images)
	}
	if shape.Lines < 1 || shape.Bars < 1 {
		t.Errorf("trend charts drew %d lines and %d bars", shape.Lines, shape.Bars)
	}
	if shape.BarWidth < 0.83 || shape.BarWidth > 0.84 {
		t.Errorf("R1's bar fills %.3f of its track, want 0.837", shape.BarWidth)
	}
	if shape.ReasonColor != "rgb(185, 28, 28)" {
		t.Errorf("the unavailable source's reason is %s, want red", shape.ReasonColor)
	}

	// A finding's evidence opens from its summary.
	var opened string
	mustEval(ctx, t, b, `(() => { const all = Array.from(document.querySelectorAll("#findings details.finding"));
		const s = all.find(x => x.innerText.includes("db02.corp")); s.open = true; return s.innerText })()`, &opened)
	for _, want := range []string{"3h20m", "disconnected", "node//db2", "GET https://wazuh.example:55000/agents?offset=0&limit=500"} {
		if !strings.Contains(opened, want) {
			t.Errorf("opened silent failure lacks %q", want)
		}
	}
	if out := os.Getenv(screenshotEnv); out != "" {
		screenshot(ctx, t, b, out)
	}
}

func mustEval(ctx context.Context, t *testing.T, b *browser, expr string, v any) {
	t.Helper()
	raw, err := b.eval(ctx, expr)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("evaluating %s gave %s: %v", expr, raw, err)
	}
}

// screenshot saves the whole page as a PNG.
func screenshot(ctx context.Context, t *testing.T, b *browser, path string) {
	t.Helper()
	var h float64
	mustEval(ctx, t, b, "document.documentElement.scrollHeight", &h)
	var shot struct{ Data string }
	err := b.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": 1280, "height": h, "scale": 1}}, &shot)
	if err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
