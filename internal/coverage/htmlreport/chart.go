package htmlreport

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/coverage"
)

// Chart geometry, in SVG user units. The SVG scales to the page width.
const (
	chartW      = 960
	plotLeft    = 64
	plotTop     = 16
	plotW       = chartW - plotLeft - 72
	plotInset   = 28 // first and last runs stand clear of the axes
	plotH       = 220
	legendRow   = 20
	maxTrend    = 500 // earlier runs beyond this are left out of the charts
	maxDots     = 60  // above this many runs, points are not marked
	maxXLabels  = 8
	axisPadding = 46 // room under the plot for the date labels
)

// palette is a set of colours that stay apart in print and for most colour-blind readers.
var palette = []string{"#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4b5563"}

// tick is one labelled mark on an axis.
type tick struct {
	Pos   float64
	Label string
}

// dot is one marked data point, with its value as a tooltip.
type dot struct {
	X, Y  float64
	Title string
}

// series is one requirement's ratio line; Lines are polyline point lists,
// broken where the requirement was skipped.
type series struct {
	Name, Color string
	Lines       []string
	Dots        []dot
}

// bar is one segment of a stacked bar.
type bar struct {
	X, Y, W, H float64
	Color      string
	Title      string
}

// legendItem is one row under a chart.
type legendItem struct {
	Y           float64
	Name, Color string
}

// chart is what the template needs to draw a line or a stacked-bar chart.
type chart struct {
	H, AxisY      float64 // total height; where the x axis is
	Left, Right   float64
	YTicks        []tick
	XTicks        []tick
	XLabel        string
	YLabel        string
	LabelY        float64 // baseline of the x axis title
	Series        []series
	Bars          []bar
	Legend        []legendItem
	Title, Detail string // accessible title and description
}

// trendCharts builds the two trend charts, or nil when there are fewer than two runs.
func trendCharts(r *coverage.Report) (ratios, findings *chart, leftOut int) {
	pts := r.Trend
	if len(pts) < 2 {
		return nil, nil, 0
	}
	if len(pts) > maxTrend {
		leftOut = len(pts) - maxTrend
		pts = pts[leftOut:]
	}
	return ratioChart(r.Requirements, pts), findingChart(pts), leftOut
}

// newChart lays out the axes shared by both charts for n runs and the given legend.
func newChart(pts []coverage.TrendPoint, legend []string, colors []string) *chart {
	c := &chart{Left: plotLeft, Right: plotLeft + plotW, AxisY: plotTop + plotH}
	c.LabelY = c.AxisY + 38
	step := (len(pts) + maxXLabels - 1) / maxXLabels
	for i := 0; i < len(pts); i += step {
		c.XTicks = append(c.XTicks, tick{Pos: xAt(i, len(pts)), Label: pts[i].At.UTC().Format("2006-01-02 15:04")})
	}
	for i, name := range legend {
		c.Legend = append(c.Legend, legendItem{Y: c.AxisY + axisPadding + float64(i)*legendRow + 12, Name: name, Color: colors[i]})
	}
	c.H = c.AxisY + axisPadding + float64(len(legend))*legendRow + 8
	return c
}

// xAt is the x of run i of n, runs spread evenly across the plot.
func xAt(i, n int) float64 {
	if n <= 1 {
		return plotLeft + plotW/2
	}
	return round1(plotLeft + plotInset + float64(i)*(plotW-2*plotInset)/float64(n-1))
}

// ratioChart is each requirement's coverage ratio over the recorded runs.
func ratioChart(reqs []coverage.RequirementResult, pts []coverage.TrendPoint) *chart {
	n := 0
	for _, p := range pts {
		n = max(n, len(p.Ratios))
	}
	names, colors := make([]string, n), make([]string, n)
	for i := range n {
		names[i] = "R" + strconv.Itoa(i+1)
		if i < len(reqs) {
			names[i] += ": " + reqLabel(reqs[i])
		}
		colors[i] = palette[i%len(palette)]
	}
	c := newChart(pts, names, colors)
	c.Title, c.YLabel, c.XLabel = "Coverage ratio per requirement over recorded runs", "covered", "recorded run (UTC)"
	c.Detail = fmt.Sprintf("%d runs from %s to %s", len(pts), fmtTime(pts[0].At), fmtTime(pts[len(pts)-1].At))
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		c.YTicks = append(c.YTicks, tick{Pos: round1(plotTop + plotH*(1-v)), Label: fmtPct(v)})
	}
	for i := range n {
		s := series{Name: names[i], Color: colors[i]}
		var line []string
		flush := func() {
			if len(line) > 0 {
				s.Lines = append(s.Lines, strings.Join(line, " "))
			}
			line = nil
		}
		for j, p := range pts {
			if i >= len(p.Ratios) || p.Ratios[i] < 0 || math.IsNaN(p.Ratios[i]) {
				flush() // skipped in that run: break the line
				continue
			}
			x, y := xAt(j, len(pts)), round1(plotTop+plotH*(1-math.Min(p.Ratios[i], 1)))
			line = append(line, fmt.Sprintf("%g,%g", x, y))
			if len(pts) <= maxDots {
				s.Dots = append(s.Dots, dot{X: x, Y: y, Title: fmt.Sprintf("R%d %s: %s", i+1, fmtTime(p.At), fmtPct(p.Ratios[i]))})
			}
		}
		flush()
		if len(s.Lines) == 0 {
			c.Legend[i].Name += " (not evaluated in these runs)"
		}
		c.Series = append(c.Series, s)
	}
	return c
}

// findingChart stacks each run's findings per kind.
func findingChart(pts []coverage.TrendPoint) *chart {
	kinds := coverage.FindingKinds
	names, colors := make([]string, len(kinds)), make([]string, len(kinds))
	for i, k := range kinds {
		names[i], colors[i] = kindTitle(k), palette[i%len(palette)]
	}
	c := newChart(pts, names, colors)
	c.Title, c.YLabel, c.XLabel = "Findings per kind over recorded runs", "findings", "recorded run (UTC)"
	top := 0
	for _, p := range pts {
		sum := 0
		for _, k := range kinds {
			sum += max(p.Findings[k], 0)
		}
		top = max(top, sum)
	}
	c.Detail = fmt.Sprintf("%d runs; at most %d findings in one run", len(pts), top)
	scale := niceMax(top)
	for i := 0; i <= 4; i++ {
		v := scale * i / 4
		c.YTicks = append(c.YTicks, tick{Pos: round1(plotTop + plotH*(1-float64(v)/float64(scale))), Label: strconv.Itoa(v)})
	}
	w := math.Max(1, math.Min(32, (plotW-2*plotInset)/float64(len(pts))*0.6))
	for j, p := range pts {
		y := float64(plotTop + plotH)
		for i, k := range kinds {
			v := p.Findings[k]
			if v <= 0 {
				continue
			}
			h := float64(v) / float64(scale) * plotH
			y -= h
			c.Bars = append(c.Bars, bar{X: round1(xAt(j, len(pts)) - w/2), Y: round1(y), W: round1(w), H: round1(h),
				Color: colors[i], Title: fmt.Sprintf("%s %s: %d", fmtTime(p.At), kindTitle(k), v)})
		}
	}
	return c
}

// niceMax rounds n up to a value whose quarters are whole, readable numbers.
func niceMax(n int) int {
	if n <= 4 {
		return 4
	}
	mag := 1
	for mag*10 < n {
		mag *= 10
	}
	for _, m := range []int{1, 2, 4, 5, 8, 10} {
		if v := m * mag; v >= n && v%4 == 0 {
			return v
		}
	}
	return 10 * mag
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
