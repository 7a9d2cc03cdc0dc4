package htmlreport

import (
	"fmt"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// hostile is a host name a compromised or careless source could report.
const hostile = `<script>alert("pwned")</script><img src=x onerror=alert(1)>`

var t0 = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)

func ev(src, id, host, state string, healthy bool, seen time.Time) coverage.Evidence {
	return coverage.Evidence{Record: &coverage.Record{Source: src, ID: id, Hostname: host, State: state, Healthy: healthy, LastSeen: seen,
		ReadAt: t0.Add(2 * time.Second), Request: "GET https://" + src + ".example:55000/agents?offset=0&limit=500",
		Fields: coverage.FieldsOf(map[string]string{"status": state, "name": host})}}
}

func intp(i int) *int { return &i }

// sampleReport is a run with every finding kind, one unavailable source, a
// skipped requirement, hostile names and a five-run trend.
func sampleReport() *coverage.Report {
	seen := t0.Add(-30 * time.Minute)
	findings := []coverage.Finding{
		{Key: "k1", Kind: coverage.KindMissingAgent, Device: "dev-web01", Name: "web01.corp", Sources: []string{"mesh"},
			Message: "known to mesh but has no record in wazuh", Requirement: intp(0),
			Evidence: []coverage.Evidence{ev("mesh", "node//abc", "web01.corp", "online", true, seen)}},
		{Key: "k2", Kind: coverage.KindSilentFailure, Device: "dev-db02", Name: "db02.corp", Sources: []string{"mesh", "wazuh"},
			Message: "alive in mesh but the wazuh agent is disconnected", Requirement: intp(0),
			Silent: &coverage.Silent{AliveSource: "mesh", AliveState: "online", AliveAt: seen, AgentSource: "wazuh",
				AgentState: "disconnected", AgentSeen: seen.Add(-(3*time.Hour + 20*time.Minute)), GapSeconds: 12000},
			Evidence: []coverage.Evidence{ev("mesh", "node//db2", "db02.corp", "online", true, seen),
				ev("wazuh", "007", "db02", "disconnected", false, seen.Add(-(3*time.Hour + 20*time.Minute)))}},
		{Key: "k3", Kind: coverage.KindOrphan, Device: "dev-hostile", Name: hostile, Sources: []string{"wazuh"},
			Message:  "only wazuh knows " + hostile,
			Evidence: []coverage.Evidence{ev("wazuh", "013", hostile, "active", true, seen)}},
		{Key: "k4", Kind: coverage.KindDuplicate, Device: "dev-lab", Name: "lab-pc", Sources: []string{"mesh"},
			Message:  "mesh holds 2 records for lab-pc",
			Evidence: []coverage.Evidence{ev("mesh", "node//l1", "lab-pc", "online", true, seen), ev("mesh", "node//l2", "lab-pc", "offline", false, time.Time{})}},
		{Key: "k5", Kind: coverage.KindStaleEverywhere, Device: "dev-old", Name: "old-kiosk", Sources: []string{"wazuh", "mesh"},
			Message: "no source saw old-kiosk within 7d"},
		{Key: "k6", Kind: coverage.KindIdentityConflict, Device: "dev-twin", Name: "twin", Sources: []string{"wazuh", "mesh"},
			Message: "same host name twin, serials SN1 and SN2 differ"},
		{Key: "k7", Kind: coverage.KindUnidentified, Device: "", Name: "", Sources: []string{"mesh"},
			Message: "mesh record node//anon has no host name, serial or MAC"},
	}
	summary := map[string]int{}
	for _, f := range findings {
		summary[f.Kind]++
	}
	var trend []coverage.TrendPoint
	for i := range 5 {
		trend = append(trend, coverage.TrendPoint{At: t0.Add(time.Duration(i-4) * 24 * time.Hour),
			Ratios:   []float64{0.6 + 0.05*float64(i), -1},
			Findings: map[string]int{coverage.KindMissingAgent: 9 - i, coverage.KindSilentFailure: 2, coverage.KindOrphan: i}})
	}
	return &coverage.Report{
		Schema: coverage.SchemaVersion, StartedAt: t0, Duration: 4.25, Window: 7 * 24 * 3600,
		Sources: []coverage.SourceStatus{
			{Name: "wazuh", Kind: "wazuh", Status: coverage.SourceOK, Records: 41, Devices: 40, FetchSeconds: 1.5},
			{Name: "mesh", Kind: "meshcentral", Status: coverage.SourceOK, Records: 38, Devices: 37, Unidentified: 1, FetchSeconds: 0.75},
			{Name: "falcon", Kind: "crowdstrike", Status: coverage.SourceUnavailable, Reason: "POST /oauth2/token: 401 invalid client <b>x</b>"},
		},
		Devices: []coverage.Device{
			{ID: "dev-db02", Name: "db02.corp", Records: []*coverage.Record{{Source: "wazuh", ID: "007"}, {Source: "mesh", ID: "node//db2"}},
				Joins: []coverage.Join{{By: "mac", Value: "52:54:00:12:34:56", Records: []*coverage.Record{{Source: "wazuh", ID: "007"}, {Source: "mesh", ID: "node//db2"}}}}},
			{ID: "dev-hostile", Name: hostile, Records: []*coverage.Record{{Source: "wazuh", ID: "013"}}},
		},
		Findings: findings,
		Requirements: []coverage.RequirementResult{
			{Index: 0, Scope: []string{"mesh"}, MustHave: []string{"wazuh"}, Filter: "os ~ linux", InScope: 37, Covered: 31, Ratio: 31.0 / 37},
			{Index: 1, Scope: []string{"wazuh"}, MustHave: []string{"falcon"}, Skipped: "falcon is unavailable"},
		},
		Matrix: []coverage.MatrixRow{{Source: "wazuh", Both: []int{40, 33, 0}}, {Source: "mesh", Both: []int{33, 37, 0}},
			{Source: "falcon", Both: []int{0, 0, 0}}},
		Summary:  coverage.Summary{Devices: 44, Findings: summary},
		Breaches: []coverage.Breach{{Kind: coverage.KindMissingAgent, Count: 1, Limit: "missing_agent: 0", Max: 0}},
		Notes:    []string{"falcon was unavailable: requirement R2 was skipped", "note with " + hostile},
		ExitCode: 1,
		Trend:    trend,
	}
}

// bigReport is a run over n devices, a fifth of them with a finding.
func bigReport(n int) *coverage.Report {
	r := sampleReport()
	r.Devices = make([]coverage.Device, n)
	r.Findings = r.Findings[:0]
	for i := range n {
		name := fmt.Sprintf("host-%06d.corp.example", i)
		id := fmt.Sprintf("dev-%06d", i)
		r.Devices[i] = coverage.Device{ID: id, Name: name,
			Records: []*coverage.Record{{Source: "wazuh", ID: fmt.Sprint(i)}, {Source: "mesh", ID: "node//" + fmt.Sprint(i)}},
			Joins:   []coverage.Join{{By: "hostname", Value: name, Records: []*coverage.Record{{Source: "wazuh", ID: fmt.Sprint(i)}, {Source: "mesh", ID: "node//" + fmt.Sprint(i)}}}}}
		if i%5 == 0 {
			r.Findings = append(r.Findings, coverage.Finding{Key: id, Kind: coverage.FindingKinds[i%len(coverage.FindingKinds)],
				Device: id, Name: name, Sources: []string{"mesh"}, Message: "known to mesh only",
				Evidence: []coverage.Evidence{ev("mesh", "node//"+fmt.Sprint(i), name, "online", true, t0)}})
		}
	}
	r.Summary.Devices = n
	r.Summary.Findings = map[string]int{}
	for _, f := range r.Findings {
		r.Summary.Findings[f.Kind]++
	}
	return r
}
