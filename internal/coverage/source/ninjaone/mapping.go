package ninjaone

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// The states a record can have.
const (
	StateOnline         = "online"         // not offline, approved, lastContact within the window
	StateOffline        = "offline"        // NinjaOne's offline: true
	StateStale          = "stale"          // not offline, but lastContact older than the window or missing
	StatePending        = "pending"        // approvalStatus PENDING: not yet approved
	StateStaged         = "staged"         // approvalStatus STAGED
	StateDecommissioned = "decommissioned" // approvalStatus DECOMMISSIONED
)

// mapDevices appends the records of one page to out. It is pure: readAt is
// when the page arrived and request names it (never a secret).
func mapDevices(out []coverage.Record, source string, devs []apiDevice, readAt time.Time, request string, env coverage.Env) []coverage.Record {
	if cap(out)-len(out) < len(devs) {
		// double, not append's quarter: 100,000 records grown a quarter at
		// a time were copied four times over
		out = slices.Grow(out, max(len(out), len(devs)))
	}
	var l labels
	for i := range devs {
		out = append(out, l.mapDevice(source, &devs[i], readAt, request, env))
	}
	return out
}

// labels keeps the group names "org N" and "location N" made for one page,
// which many devices share.
type labels struct {
	org, loc map[int]string
}

func (l *labels) get(m *map[int]string, prefix string, id int) string {
	if v, ok := (*m)[id]; ok {
		return v
	}
	if *m == nil {
		*m = map[int]string{}
	}
	v := prefix + strconv.Itoa(id)
	(*m)[id] = v
	return v
}

func mapDevice(source string, d *apiDevice, readAt time.Time, request string, env coverage.Env) coverage.Record {
	var l labels
	return l.mapDevice(source, d, readAt, request, env)
}

func (l *labels) mapDevice(source string, d *apiDevice, readAt time.Time, request string, env coverage.Env) coverage.Record {
	// Fields hold the vendor fields the record's values came from: the name
	// and serial fields used, os.name, nodeClass, and what the state was read from.
	var f coverage.FieldsBuilder
	put := f.SetNonEmpty
	host, hostField := hostname(d)
	put(hostField, host)
	put("nodeClass", d.NodeClass)
	put("approvalStatus", d.ApprovalStatus)
	if d.Offline != nil {
		f.Set("offline", strconv.FormatBool(*d.Offline))
	}
	if d.LastContact != 0 {
		f.Set("lastContact", strconv.FormatFloat(d.LastContact, 'f', -1, 64))
	}
	serial := strings.TrimSpace(d.System.SerialNumber)
	put("system.serialNumber", serial)
	if serial == "" {
		serial = strings.TrimSpace(d.System.BIOSSerialNumber)
		put("system.biosSerialNumber", serial)
	}
	osName := strings.TrimSpace(d.OS.Name)
	put("os.name", osName)
	r := coverage.Record{
		Source:   source,
		ID:       strconv.Itoa(d.ID),
		Hostname: host,
		Serial:   serial,
		MACs:     clean(d.MACAddresses),
		IPs:      clean(d.IPAddresses),
		OS:       osName,
		Groups:   l.groups(d),
		LastSeen: epoch(d.LastContact),
		Fields:   f.Build(),
		ReadAt:   readAt,
		Request:  request,
	}
	switch strings.ToUpper(d.ApprovalStatus) {
	case "PENDING":
		r.State = StatePending
	case "STAGED":
		r.State = StateStaged
	case "DECOMMISSIONED":
		r.State = StateDecommissioned
	default: // APPROVED, absent, or a later value: the agent's own state decides
		switch {
		case d.Offline != nil && *d.Offline:
			r.State = StateOffline
		case env.Fresh(r.LastSeen, readAt):
			r.State = StateOnline
			r.Healthy = true
		default:
			r.State = StateStale
		}
	}
	return r
}

// hostname is the device's computer name and the field it came from:
// systemName, else dnsName, else netbiosName, else displayName (a name
// people give).
func hostname(d *apiDevice) (string, string) {
	if s := strings.TrimSpace(d.SystemName); s != "" {
		return s, "systemName"
	}
	if s := strings.TrimSpace(d.DNSName); s != "" {
		return s, "dnsName"
	}
	if s := strings.TrimSpace(d.NetbiosName); s != "" {
		return s, "netbiosName"
	}
	if s := strings.TrimSpace(d.DisplayName); s != "" {
		return s, "displayName"
	}
	return "", ""
}

// groups is the device's organization and location (by id, and by name
// when the answer expands them) and its tags.
func (l *labels) groups(d *apiDevice) []string {
	out := make([]string, 0, 4+len(d.Tags))
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if d.OrganizationID != 0 {
		add(l.get(&l.org, "org ", d.OrganizationID))
	}
	if d.LocationID != 0 {
		add(l.get(&l.loc, "location ", d.LocationID))
	}
	add(d.References.Organization.Name)
	add(d.References.Location.Name)
	for _, t := range d.Tags {
		add(t)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// clean drops empty and repeated values, keeping the order, in place (the
// decoded slice is the mapping's own); nil when none remain.
func clean(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// epoch reads one of NinjaOne's timestamps: epoch seconds, as a number
// that may have a fraction. A value too big for seconds is read as
// milliseconds; zero, negative or not finite is unknown. It is read to the
// microsecond.
func epoch(v float64) time.Time {
	if !(v > 0) || math.IsInf(v, 0) {
		return time.Time{}
	}
	if v > 1e11 { // later than the year 5138 in seconds: milliseconds
		v /= 1000
	}
	if v > 1e11 {
		return time.Time{}
	}
	// A double holds about 16 digits, so past the microsecond the fraction
	// is noise: round to it.
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}
