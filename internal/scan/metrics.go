package scan

import (
	"bufio"
	"io"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Family is one Prometheus metric family.
type Family struct {
	Name, Help, Type string
	Samples          []Sample
}

// Sample is one series of a family: label pairs and a value.
type Sample struct {
	Labels []string // name, value, name, value, ...
	Value  float64
}

func gauge(name, help string, samples ...Sample) Family {
	return Family{Name: name, Help: help, Type: "gauge", Samples: samples}
}

func sample(v float64, labels ...string) Sample { return Sample{Labels: labels, Value: v} }

// Metrics turns a report into metric families; perAgent adds one keepalive-age
// series per agent (mind the cardinality) when the scan ran with Options.PerAgent.
func Metrics(r *Report, perAgent bool) []Family {
	var fams []Family
	var cls, fnd, age, set []Sample
	for _, c := range Classes {
		cls = append(cls, sample(float64(r.Classes[c]), "class", string(c)))
	}
	for _, f := range Findings {
		fnd = append(fnd, sample(float64(r.Findings[f]), "finding", string(f)))
	}
	for _, b := range r.Disconnected {
		age = append(age, sample(float64(b.Agents), "class", string(ClassDisconnected), "bucket", b.Bucket))
	}
	for _, b := range r.NeverConnected {
		age = append(age, sample(float64(b.Agents), "class", string(ClassNeverConnected), "bucket", b.Bucket))
	}
	s := r.Settings
	for _, kv := range []struct {
		k string
		v Setting
	}{{"notify_time", s.NotifyTime}, {"stale_after", s.StaleAfter},
		{"agents_disconnection_time", s.DisconnectionTime}, {"never_connected_grace", s.NeverConnected}} {
		set = append(set, sample(kv.v.Seconds, "setting", kv.k))
	}
	over := map[Finding]bool{}
	for _, b := range r.Breaches {
		over[b.Finding] = true
	}
	var exceeded []Sample
	for _, f := range Findings {
		exceeded = append(exceeded, sample(boolf(over[f]), "finding", string(f)))
	}
	fams = append(fams,
		gauge("muster_scan_agents", "Agents by connection class (agent 000, the manager, excluded).", cls...),
		gauge("muster_scan_agents_total", "Agents scanned (agent 000 excluded).", sample(float64(r.Total))),
		gauge("muster_scan_agents_healthy", "Agents without any finding.", sample(float64(r.Healthy))),
		gauge("muster_scan_findings", "Agents with each finding; an agent can have several.", fnd...),
		gauge("muster_scan_agents_by_age", "Disconnected agents by time since their last keepalive, never-connected agents by time since registration.", age...),
		gauge("muster_scan_threshold_exceeded", "1 when a finding's count is over its --max limit.", exceeded...),
		gauge("muster_scan_setting_seconds", "Settings the classification used.", set...),
		gauge("muster_scan_manager_info", "The scanned manager's versions (value 1).",
			sample(1, "manager_version", s.ManagerVersion, "api_version", s.APIVersion)),
		gauge("muster_scan_duration_seconds", "How long the last scan took.", sample(r.Duration)),
		gauge("muster_scan_exit_code", "Exit code of the last scan: 0 healthy, 1 findings over thresholds, 2 could not scan.", sample(float64(r.ExitCode))),
	)
	if perAgent {
		fams = append(fams, agentAges(r))
	}
	return fams
}

// agentAges is the per-agent keepalive age family.
func agentAges(r *Report) Family {
	f := gauge("muster_scan_agent_keepalive_age_seconds",
		"Seconds since each agent's last keepalive (agents that never sent one are left out).")
	for i := range r.entries {
		e := &r.entries[i]
		if !e.keepaliveKnown {
			continue
		}
		f.Samples = append(f.Samples, sample(e.age.Seconds(), "id", e.id, "name", e.name, "group", e.groups, "node", e.node))
	}
	return f
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// WritePrometheus writes families in the Prometheus text exposition format
// 0.0.4, through client_golang: families sorted by name, each family's
// series by label values and each series' labels by name.
func WritePrometheus(w io.Writer, fams []Family) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(familyCollector{func() []Family { return fams }}); err != nil {
		return err
	}
	gathered, err := reg.Gather()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	enc := expfmt.NewEncoder(bw, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range gathered {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// familyCollector hands the families to a registry as constant metrics at
// each gathering. It describes nothing (an unchecked collector): the
// families change with every scan.
type familyCollector struct{ families func() []Family }

func (familyCollector) Describe(chan<- *prometheus.Desc) {}

func (c familyCollector) Collect(ch chan<- prometheus.Metric) {
	for _, f := range c.families() {
		vt := prometheus.UntypedValue
		switch f.Type {
		case "gauge":
			vt = prometheus.GaugeValue
		case "counter":
			vt = prometheus.CounterValue
		}
		var desc *prometheus.Desc
		var names []string
		for _, s := range f.Samples {
			values := make([]string, 0, len(s.Labels)/2)
			if desc == nil {
				for i := 0; i+1 < len(s.Labels); i += 2 {
					names = append(names, s.Labels[i])
				}
				desc = prometheus.NewDesc(f.Name, f.Help, names, nil)
			}
			for i := 1; i < len(s.Labels); i += 2 {
				// Agent names come from the manager: keep the series when
				// one is not valid UTF-8, as the exposition requires.
				values = append(values, strings.ToValidUTF8(s.Labels[i], "\uFFFD"))
			}
			m, err := prometheus.NewConstMetric(desc, vt, s.Value, values...)
			if err != nil {
				m = prometheus.NewInvalidMetric(desc, err)
			}
			ch <- m
		}
	}
}

// secondsDur converts whole seconds to a duration.
func secondsDur(s int64) time.Duration { return time.Duration(s) * time.Second }
