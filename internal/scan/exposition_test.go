package scan_test

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/muster-project/muster/internal/scan"
)

// handWritten is the exposition writer scan used before it moved onto
// client_golang, kept as the reference the new output must match.
func handWritten(w io.Writer, fams []scan.Family) error {
	bw := bufio.NewWriter(w)
	sorted := append([]scan.Family(nil), fams...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	help := strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	label := strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	for _, f := range sorted {
		bw.WriteString("# HELP " + f.Name + " " + help.Replace(f.Help) + "\n")
		bw.WriteString("# TYPE " + f.Name + " " + f.Type + "\n")
		for _, s := range f.Samples {
			bw.WriteString(f.Name)
			if len(s.Labels) > 0 {
				bw.WriteByte('{')
				for i := 0; i+1 < len(s.Labels); i += 2 {
					if i > 0 {
						bw.WriteByte(',')
					}
					bw.WriteString(s.Labels[i] + `="` + label.Replace(strings.ToValidUTF8(s.Labels[i+1], "\uFFFD")) + `"`)
				}
				bw.WriteByte('}')
			}
			bw.WriteByte(' ')
			switch v := s.Value; {
			case math.IsInf(v, 1):
				bw.WriteString("+Inf")
			case math.IsInf(v, -1):
				bw.WriteString("-Inf")
			case math.IsNaN(v):
				bw.WriteString("NaN")
			default:
				bw.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			}
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// canonical reads an exposition and writes it again with every series'
// labels sorted by name and every family's series sorted, the order
// client_golang imposes; families without series (which the text format
// allows and client_golang leaves out) are dropped.
func canonical(t *testing.T, text string) string {
	t.Helper()
	fams := parsed(t, text)
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, n := range names {
		if err := enc.Encode(fams[n]); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func parsed(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	for name, f := range fams {
		if len(f.Metric) == 0 {
			delete(fams, name)
			continue
		}
		for _, m := range f.Metric {
			sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
		}
		sort.Slice(f.Metric, func(i, j int) bool { return f.Metric[i].String() < f.Metric[j].String() })
	}
	return fams
}

// TestExpositionUnchanged: the names, HELP texts, types, labels and values
// of the scan's metrics (per-agent series, odd agent names and a value
// outside the usual range included) are what the hand-written writer gave.
func TestExpositionUnchanged(t *testing.T) {
	r := fixtureReport(t, append(loadFixture(t),
		agent("099", "we\"ird\nname\\", "10.9.9.9", "active", "lastKeepAlive", ago(time.Second)),
		agent("098", "bad-\xff-utf8", "10.9.9.8", "active", "lastKeepAlive", ago(2*time.Second))))
	fams := append(scan.Metrics(r, true), scan.Family{Name: "muster_scan_test_extremes", Help: "Odd values.",
		Type: "gauge", Samples: []scan.Sample{{Labels: []string{"k", "inf"}, Value: math.Inf(1)},
			{Labels: []string{"k", "tiny"}, Value: 1e-300}}})
	var before, after bytes.Buffer
	if err := handWritten(&before, fams); err != nil {
		t.Fatal(err)
	}
	if err := scan.WritePrometheus(&after, fams); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(canonical(t, before.String()), canonical(t, after.String())); diff != "" {
		t.Errorf("exposition changed (-hand-written +client_golang):\n%s", diff)
	}
	// The new output is already in that order: only formatting differs.
	if got := canonical(t, after.String()); got != after.String() {
		t.Errorf("client_golang's output is not in canonical order:\n%s", cmp.Diff(got, after.String()))
	}
	if len(parsed(t, after.String())) < 10 {
		t.Fatalf("too few families:\n%s", after.String())
	}
}
