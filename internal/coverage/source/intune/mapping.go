package intune

import (
	"fmt"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// apiDevice is the part of a managedDevice the source selects. Every
// property is a string on the wire (enums included); null reads as "".
// userPrincipalName, emailAddress and the like are deliberately not read:
// coverage needs the device, not the person.
type apiDevice struct {
	ID                        string `json:"id"`
	DeviceName                string `json:"deviceName"`
	SerialNumber              string `json:"serialNumber"`
	WiFiMacAddress            string `json:"wiFiMacAddress"`
	EthernetMacAddress        string `json:"ethernetMacAddress"`
	OperatingSystem           string `json:"operatingSystem"`
	OSVersion                 string `json:"osVersion"`
	LastSyncDateTime          string `json:"lastSyncDateTime"`
	ComplianceState           string `json:"complianceState"`
	ManagementAgent           string `json:"managementAgent"`
	ManagementState           string `json:"managementState"` // beta only
	AzureADDeviceID           string `json:"azureADDeviceId"`
	ManagedDeviceOwnerType    string `json:"managedDeviceOwnerType"`
	DeviceCategoryDisplayName string `json:"deviceCategoryDisplayName"`
}

// The states a record takes. A managementState other than "managed" (beta)
// is used as it is; otherwise the state says whether the device synced
// within the window.
const (
	StateSynced      = "synced"       // last sync within the window: healthy
	StateStale       = "stale"        // last sync older than the window
	StateNeverSynced = "never_synced" // Graph's "0001-01-01T00:00:00Z"
	managed          = "managed"
)

// mapDevice turns one managedDevice into a record. It is pure: fresh is the
// config's window test (coverage.Env.Fresh), readAt when the page arrived and
// request the page's address (never a secret).
func mapDevice(source string, d *apiDevice, readAt time.Time, request string, fresh func(lastSeen, readAt time.Time) bool) (coverage.Record, error) {
	last, err := graphTime(d.LastSyncDateTime)
	if err != nil {
		return coverage.Record{}, fmt.Errorf("device %s: lastSyncDateTime %q is not a date and time such as 2026-01-02T03:04:05Z", d.ID, d.LastSyncDateTime)
	}
	r := coverage.Record{
		Source:   source,
		ID:       d.ID,
		Hostname: strings.TrimSpace(d.DeviceName),
		Serial:   strings.TrimSpace(d.SerialNumber),
		MACs:     macs(d.WiFiMacAddress, d.EthernetMacAddress),
		OS:       strings.TrimSpace(strings.TrimSpace(d.OperatingSystem) + " " + strings.TrimSpace(d.OSVersion)),
		LastSeen: last,
		ReadAt:   readAt,
		Request:  request,
		Fields:   fields(d),
	}
	if g := strings.TrimSpace(d.DeviceCategoryDisplayName); g != "" {
		r.Groups = []string{g}
	}
	switch {
	case d.ManagementState != "" && d.ManagementState != managed:
		r.State = d.ManagementState // retirePending, wipeFailed, unhealthy, ...
	case last.IsZero():
		r.State = StateNeverSynced
	case fresh(last, readAt):
		r.State, r.Healthy = StateSynced, true
	default:
		r.State = StateStale
	}
	return r, nil
}

// graphTime reads a DateTimeOffset; Graph's zero value (year 1) and an
// empty value are "never".
func graphTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	if t.Year() <= 1 {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// macs keeps the addresses Intune filled: it sends 12 hex digits without
// separators, "" or null when it has none, and sometimes all zeros.
func macs(in ...string) []string {
	var out []string
	for _, m := range in {
		m = strings.TrimSpace(m)
		if m == "" || strings.Trim(m, "0:-") == "" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || strings.EqualFold(o, m)
		}
		if !dup {
			out = append(out, m)
		}
	}
	return out
}

// fields keeps the raw values the record came from, by Graph's names.
func fields(d *apiDevice) coverage.Fields {
	var f coverage.FieldsBuilder
	add := f.SetNonEmpty
	add("deviceName", d.DeviceName)
	add("serialNumber", d.SerialNumber)
	add("wiFiMacAddress", d.WiFiMacAddress)
	add("ethernetMacAddress", d.EthernetMacAddress)
	add("operatingSystem", d.OperatingSystem)
	add("osVersion", d.OSVersion)
	add("lastSyncDateTime", d.LastSyncDateTime)
	add("complianceState", d.ComplianceState)
	add("managementAgent", d.ManagementAgent)
	add("managementState", d.ManagementState)
	add("azureADDeviceId", d.AzureADDeviceID)
	add("managedDeviceOwnerType", d.ManagedDeviceOwnerType)
	add("deviceCategoryDisplayName", d.DeviceCategoryDisplayName)
	return f.Build()
}
