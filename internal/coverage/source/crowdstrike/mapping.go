package crowdstrike

import (
	"slices"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// device is one element of /devices/entities/devices/v2's resources: the
// fields the mapping reads, by Falcon's names. The rest of the record
// (policies, meta, hardware) is skipped.
type device struct {
	DeviceID        fstr  `json:"device_id"`
	Hostname        fstr  `json:"hostname"`
	SerialNumber    fstr  `json:"serial_number"`
	MACAddress      fstr  `json:"mac_address"`
	LocalIP         fstr  `json:"local_ip"`
	ExternalIP      fstr  `json:"external_ip"`
	OSVersion       fstr  `json:"os_version"`
	PlatformName    fstr  `json:"platform_name"`
	ProductTypeDesc fstr  `json:"product_type_desc"`
	AgentVersion    fstr  `json:"agent_version"`
	Status          fstr  `json:"status"`
	RFM             fstr  `json:"reduced_functionality_mode"`
	LastSeen        fstr  `json:"last_seen"`
	FirstSeen       fstr  `json:"first_seen"`
	MachineDomain   fstr  `json:"machine_domain"`
	Groups          fstrs `json:"groups"`
	Tags            fstrs `json:"tags"`
}

// The states a record can have. Falcon's containment statuses are passed
// through as Falcon spells them; the last two are muster's words.
const (
	StateNormal                 = "normal"
	StateContainmentPending     = "containment_pending"
	StateContained              = "contained"
	StateLiftContainmentPending = "lift_containment_pending"
	StateReducedFunctionality   = "reduced_functionality" // reduced_functionality_mode "yes"
	StateStale                  = "stale"                 // last_seen outside the window (or never)
)

// mapDevices turns one answer's hosts into records. It is pure: readAt is
// when the answer arrived, request names it (never a secret) and env gives
// the window for last_seen.
func mapDevices(source string, devs []device, readAt time.Time, request string, env coverage.Env) []coverage.Record {
	return appendDevices(make([]coverage.Record, 0, len(devs)), source, devs, readAt, request, env)
}

// appendDevices is mapDevices appending to out (Fetch's list: each record
// is copied once).
func appendDevices(out []coverage.Record, source string, devs []device, readAt time.Time, request string, env coverage.Env) []coverage.Record {
	if cap(out)-len(out) < len(devs) {
		out = slices.Grow(out, max(len(out), len(devs))) // double, not append's quarter
	}
	for i := range devs {
		out = append(out, mapDevice(source, &devs[i], readAt, request, env))
	}
	return out
}

func mapDevice(source string, d *device, readAt time.Time, request string, env coverage.Env) coverage.Record {
	var fields coverage.FieldsBuilder
	put := func(k string, v fstr) { fields.SetNonEmpty(k, string(v)) }
	put("agent_version", d.AgentVersion) // in name order: Build need not sort
	put("external_ip", d.ExternalIP)
	put("first_seen", d.FirstSeen)
	put("last_seen", d.LastSeen)
	put("local_ip", d.LocalIP)
	put("mac_address", d.MACAddress)
	put("machine_domain", d.MachineDomain)
	put("os_version", d.OSVersion)
	put("platform_name", d.PlatformName)
	put("product_type_desc", d.ProductTypeDesc)
	put("reduced_functionality_mode", d.RFM)
	put("status", d.Status)
	r := coverage.Record{
		Source:   source,
		ID:       string(d.DeviceID),
		Hostname: strings.TrimSpace(string(d.Hostname)),
		Serial:   strings.TrimSpace(string(d.SerialNumber)),
		IPs:      ips(d.LocalIP, d.ExternalIP),
		OS:       osName(string(d.PlatformName), string(d.OSVersion)),
		Groups:   groups(d.Groups, d.Tags),
		LastSeen: falconTime(string(d.LastSeen)),
		Fields:   fields.Build(),
		ReadAt:   readAt,
		Request:  request,
	}
	if m := strings.TrimSpace(string(d.MACAddress)); m != "" {
		r.MACs = []string{m}
	}
	status := strings.ToLower(strings.TrimSpace(string(d.Status)))
	rfm := strings.EqualFold(strings.TrimSpace(string(d.RFM)), "yes")
	fresh := env.Fresh(r.LastSeen, readAt)
	switch {
	case status != StateNormal && status != "":
		r.State = status // contained, containment_pending, ... as Falcon says
	case rfm:
		r.State = StateReducedFunctionality
	case !fresh:
		r.State = StateStale
	case status == "":
		r.State = "unknown" // Falcon sent no status
	default:
		r.State = StateNormal
	}
	r.Healthy = status == StateNormal && !rfm && fresh
	return r
}

// osName is os_version ("Windows 11", "Sonoma (14)", "RHEL 9.2") with the
// platform ("Windows", "Mac", "Linux") in front when os_version lacks it.
func osName(platform, version string) string {
	platform, version = strings.TrimSpace(platform), strings.TrimSpace(version)
	switch {
	case version == "":
		return platform
	case platform == "" || strings.Contains(strings.ToLower(version), strings.ToLower(platform)):
		return version
	}
	return platform + " " + version
}

// ips lists local_ip then external_ip, once each.
func ips(local, external fstr) []string {
	var out []string
	for _, v := range []fstr{local, external} {
		if s := strings.TrimSpace(string(v)); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// groups is the host group ids, then the tags (FalconGroupingTags/...,
// SensorGroupingTags/...), once each, in Falcon's order.
func groups(gs, tags fstrs) []string {
	if len(gs)+len(tags) == 0 {
		return nil
	}
	out := make([]string, 0, len(gs)+len(tags))
	for _, list := range [2]fstrs{gs, tags} {
		for _, g := range list {
			if g = strings.TrimSpace(g); g != "" && !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}

// falconTime reads Falcon's timestamps ("2024-05-01T10:20:30Z", sometimes
// with fractions); zero when empty or not a time.
func falconTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 2000 {
		return time.Time{}
	}
	return t.UTC()
}
