package htmlreport

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

func render(t testing.TB, r *coverage.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.String()
}

// tagRE matches every start or end tag (the page has no comments or scripts).
var tagRE = regexp.MustCompile(`<[^>]*>`)

func TestWriteEscapesHostileValues(t *testing.T) {
	out := render(t, sampleReport())
	if strings.Contains(out, hostile) {
		t.Fatal("the hostile host name was written unescaped")
	}
	for _, bad := range []string{"<script", "<img", "<b>x</b>"} {
		if strings.Contains(strings.ToLower(out), bad) {
			t.Errorf("page contains %q: a source value became markup", bad)
		}
	}
	if !strings.Contains(out, "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;") {
		t.Error("the hostile host name is not shown as text")
	}
}

func TestWriteIsSelfContained(t *testing.T) {
	out := render(t, sampleReport())
	for _, tag := range tagRE.FindAllString(out, -1) {
		low := strings.ToLower(tag)
		if strings.Contains(low, "://") || strings.Contains(low, "url(") {
			t.Errorf("tag refers to an outside resource: %s", tag)
		}
		for _, name := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "<image", "<use"} {
			if strings.HasPrefix(low, name) {
				t.Errorf("tag loads a resource: %s", tag)
			}
		}
		if m := regexp.MustCompile(`\s(src|href)="([^"]*)"`).FindStringSubmatch(tag); m != nil && !strings.HasPrefix(m[2], "#") {
			t.Errorf("attribute %s=%q is not a link inside the page", m[1], m[2])
		}
	}
	style := out[strings.Index(out, "<style>"):strings.Index(out, "</style>")]
	for _, bad := range []string{"@import", "url(", "://"} {
		if strings.Contains(style, bad) {
			t.Errorf("the style sheet contains %q", bad)
		}
	}
	// The requests behind the evidence are shown, as text only.
	if !strings.Contains(out, "GET https://wazuh.example:55000/agents?offset=0&amp;limit=500") {
		t.Error("an evidence request is missing")
	}
}

func TestWriteShowsTheRunsFigures(t *testing.T) {
	out := render(t, sampleReport())
	for _, want := range []string{
		"<b>44</b><span>devices</span>",
		"2026-12-07 06:00:00 UTC", // run time
		"within the last 7d",      // window
		"Not covered.", "Exit code 1: 1 limit breached, 1 source unavailable.",
		`<span class="status-bad">unavailable</span><div class="reason">POST /oauth2/token: 401 invalid client &lt;b&gt;x&lt;/b&gt;</div>`,
		`<span class="status-ok">ok</span>`,
		"<td class=\"num\">41</td><td class=\"num\">40</td>", "0.75 s",
		"83.7%", "width: 83.7%", "R2: devices known to wazuh must be healthy in falcon (not evaluated in these runs)", "filter: os ~ linux", "skipped: falcon is unavailable",
		`title="33 devices known to both wazuh and mesh">33</td>`, `class="s5 diag" title="wazuh knows 40 devices">40</td>`,
		"<polyline", "2026-12-03 06:00", "<rect",
		"3h20m between the agent", "<th>last seen</th><td>never</td>",
		"<code>node//db2</code>", "<td><code>status</code></td><td>disconnected</td>", "breaks R1",
		"joined by", "mac 52:54:00:12:34:56 (wazuh/007, mesh/node//db2)", "single record",
		"missing_agent: 0", "falcon was unavailable: requirement R2 was skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, k := range coverage.FindingKinds {
		head := fmt.Sprintf(`<h3 id="kind-%s">%s (1)</h3>`, k, kindTitle(k))
		if !strings.Contains(out, head) {
			t.Errorf("page lacks the heading %q", head)
		}
		if kindHelp[k] == "" || !strings.Contains(out, template.HTMLEscapeString(kindHelp[k])) {
			t.Errorf("kind %s has no explanation on the page", k)
		}
	}
}

func TestWriteTrend(t *testing.T) {
	tests := []struct {
		name   string
		points int
		chart  bool
	}{{"no history", 0, false}, {"one run", 1, false}, {"two runs", 2, true}, {"many runs", maxTrend + 3, true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleReport()
			r.Trend = nil
			for i := range tc.points {
				p := sampleReport().Trend[i%5]
				r.Trend = append(r.Trend, p)
			}
			out := render(t, r)
			if got := strings.Contains(out, "<svg"); got != tc.chart {
				t.Errorf("chart drawn: %v, want %v", got, tc.chart)
			}
			if got := strings.Contains(out, "The trend appears after two recorded runs"); got == tc.chart {
				t.Errorf("trend sentence shown: %v, want %v", got, !tc.chart)
			}
			if left := tc.points - maxTrend; left > 0 && !strings.Contains(out, fmt.Sprintf("The %d oldest recorded runs", left)) {
				t.Error("the runs left out of the chart are not said")
			}
		})
	}
}

func TestWriteCapsLongLists(t *testing.T) {
	out := render(t, bigReport(maxDevices+10))
	if !strings.Contains(out, "Only the first 3000 devices are listed; 10 more are left out") {
		t.Error("the devices left out are not said")
	}
	if n := strings.Count(out, `<div class="note mono">dev-`); n != maxDevices {
		t.Errorf("device rows = %d, want %d", n, maxDevices)
	}
	r := bigReport(10)
	for i := range maxFindingsPerKind + 7 {
		r.Findings = append(r.Findings, coverage.Finding{Kind: coverage.KindOrphan, Name: fmt.Sprint("o", i)})
	}
	out = render(t, r)
	if !strings.Contains(out, "7 more findings of this kind are left out") {
		t.Error("the findings left out are not said")
	}
}

func TestWriteEdgeCases(t *testing.T) {
	if err := Write(&bytes.Buffer{}, nil); err == nil {
		t.Error("a nil report gave no error")
	}
	out := render(t, &coverage.Report{})
	for _, want := range []string{"Covered.", "Exit code 0", "No source was configured.", "No requirement is configured.",
		"No findings in this run.", "No limit is breached."} {
		if !strings.Contains(out, want) {
			t.Errorf("empty report lacks %q", want)
		}
	}
	r := sampleReport()
	r.Findings = append(r.Findings, coverage.Finding{Kind: "new_kind", Name: "n1", Message: "a kind from a newer engine"})
	if out := render(t, r); !strings.Contains(out, "New kind (1)") || !strings.Contains(out, "a kind from a newer engine") {
		t.Error("a finding of an unknown kind was dropped")
	}
	r.Findings[1].Silent.AgentSeen, r.Findings[1].Silent.GapSeconds = time.Time{}, -1
	if out := render(t, r); !strings.Contains(out, "last seen never") || !strings.Contains(out, "the agent was never seen") {
		t.Error("a silent failure whose agent was never seen does not say so")
	}
	r.Matrix = []coverage.MatrixRow{{Source: "a", Both: []int{3}}, {Source: "b"}}
	if out := render(t, r); !strings.Contains(out, "<td>–</td>") {
		t.Error("a short matrix row was not shown as missing")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteReportsWriterErrors(t *testing.T) {
	err := Write(failWriter{}, sampleReport())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the writer's error", err)
	}
}

func TestFormat(t *testing.T) {
	secs := []struct {
		in   float64
		want string
	}{{-1, "never"}, {0, "0s"}, {0.75, "0.8s"}, {45, "45s"}, {12000, "3h20m"}, {3600, "1h"}, {7 * 86400, "7d"},
		{2*86400 + 4*3600 + 59, "2d4h"}, {90061, "1d1h"}}
	for _, tc := range secs {
		if got := fmtSeconds(tc.in); got != tc.want {
			t.Errorf("fmtSeconds(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	pcts := []struct {
		in   float64
		want string
	}{{1, "100%"}, {0.9999, "99.9%"}, {31.0 / 37, "83.7%"}, {0, "0%"}, {-1, "n/a"}}
	for _, tc := range pcts {
		if got := fmtPct(tc.in); got != tc.want {
			t.Errorf("fmtPct(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want int }{{0, 4}, {5, 8}, {37, 40}, {100, 100}, {101, 200}} {
		if got := niceMax(tc.in); got != tc.want {
			t.Errorf("niceMax(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestWriteSizeFor100kDevices keeps the page openable for a large estate.
func TestWriteSizeFor100kDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100k-device report")
	}
	out := render(t, bigReport(100_000))
	if len(out) > 10<<20 {
		t.Errorf("page for 100k devices is %d bytes, want at most 10 MiB", len(out))
	}
}

func BenchmarkWrite100k(b *testing.B) {
	r := bigReport(100_000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, r); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

func FuzzWriteEscapes(f *testing.F) {
	f.Add(hostile, "msg", "field")
	f.Add("</style><script>x</script>", "<svg onload=alert(1)>", "javascript:alert(1)")
	f.Fuzz(func(t *testing.T, name, msg, field string) {
		r := sampleReport()
		r.Findings[0].Name, r.Findings[0].Message = name, msg
		r.Findings[0].Evidence[0].Fields = coverage.FieldsOf(map[string]string{field: name})
		r.Sources[0].Name, r.Devices[0].Name = name, name
		out := render(t, r)
		low := strings.ToLower(out)
		for _, bad := range []string{"<script", "<img", "<svg onload", "<iframe"} {
			if strings.Contains(low, bad) {
				t.Fatalf("input became markup %q", bad)
			}
		}
	})
}
