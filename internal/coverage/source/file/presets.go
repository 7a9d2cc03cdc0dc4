package file

import (
	"slices"
	"strings"
)

// Preset is a built-in column mapping for one tool's documented export.
type Preset struct {
	Name string
	// Export says which export of which tool the preset follows.
	Export string
	// Columns maps a field to its candidate columns; the first one the
	// file has wins (one export's CSV and JSON forms may differ).
	Columns map[string][]string
	// Records is the dotted path to the records' array in the tool's JSON
	// export, used when the file's top level is an object and records: is
	// not set.
	Records string
}

// presets are the built-in mappings. Each follows the column names of a
// documented export; the page is cited above it. Presets map no state column
// unless the tool documents one whose values say the device is alive.
var presets = []Preset{
	// ServiceNow CMDB, the Computer [cmdb_ci_computer] class and the
	// attributes it inherits from cmdb_ci_hardware and cmdb_ci, by their
	// column (element) names, as a list export writes them:
	// https://www.servicenow.com/docs/r/australia/servicenow-platform/configuration-management-database-cmdb/class-computer.html
	// https://www.servicenow.com/docs/r/australia/servicenow-platform/service-graph-connectors/cmdb-sccm-classes.html
	// ("Serial number | serial_number", "Name | name", ...).
	{
		Name:   "servicenow",
		Export: "ServiceNow cmdb_ci_computer list export (CSV or JSON)",
		Columns: map[string][]string{
			"id":       {"sys_id"},
			"hostname": {"name"},
			"serial":   {"serial_number"},
			"mac":      {"mac_address"},
			"ip":       {"ip_address"},
			"os":       {"os"},
		},
	},
	// Microsoft Intune through Microsoft Graph: the managedDevice resource,
	// as GET /deviceManagement/managedDevices returns it ({"value": [...]}):
	// https://learn.microsoft.com/en-us/graph/api/resources/intune-devices-manageddevice?view=graph-rest-1.0
	// (id, deviceName, serialNumber, wiFiMacAddress, operatingSystem,
	// lastSyncDateTime).
	{
		Name:   "intune",
		Export: "Microsoft Intune managed devices from Microsoft Graph (JSON)",
		Columns: map[string][]string{
			"id":        {"id"},
			"hostname":  {"deviceName"},
			"serial":    {"serialNumber"},
			"mac":       {"wiFiMacAddress"},
			"os":        {"operatingSystem"},
			"last_seen": {"lastSyncDateTime"},
		},
		Records: "value",
	},
	// Microsoft Intune's devices report as exported to Log Analytics, the
	// IntuneDevices table (a query's result exported as CSV or JSON):
	// https://learn.microsoft.com/en-us/azure/azure-monitor/reference/tables/intunedevices
	// (DeviceId, DeviceName, SerialNumber, OS, LastContact).
	{
		Name:   "intune-report",
		Export: "Microsoft Intune devices report, the Log Analytics IntuneDevices table",
		Columns: map[string][]string{
			"id":        {"DeviceId"},
			"hostname":  {"DeviceName"},
			"serial":    {"SerialNumber"},
			"os":        {"OS"},
			"last_seen": {"LastContact"},
		},
	},
	// Jamf Pro computers: the inventory attributes as an advanced computer
	// search shows and exports them (CSV headers "Computer Name", ...; the
	// Classic API's JSON form of the same search uses underscores,
	// {"advanced_computer_search": {"computers": [...]}}):
	// https://docs.jamf.com/de/10.32.0/jamf-pro/leitfaden-fur-administratoren/Referenz_zu_Computerbestand_und_Kriterien.html
	// (the Computer Inventory Information Reference; the English edition
	// names the same attributes Computer Name, Last Check-in, IP Address,
	// Serial Number, MAC Address, Operating System).
	{
		Name:   "jamf",
		Export: "Jamf Pro advanced computer search export (CSV, or the Classic API's JSON)",
		Columns: map[string][]string{
			"id":        {"JSS Computer ID", "JSS_Computer_ID", "id"},
			"hostname":  {"Computer Name", "Computer_Name"},
			"serial":    {"Serial Number", "Serial_Number"},
			"mac":       {"MAC Address", "MAC_Address"},
			"ip":        {"IP Address", "IP_Address"},
			"os":        {"Operating System", "Operating_System", "Operating System Version", "Operating_System_Version"},
			"last_seen": {"Last Check-in", "Last_Check_in"},
		},
		Records: "advanced_computer_search.computers",
	},
	// NetBox devices: the device's fields as NetBox's CSV import/export and
	// its REST API name them (name, serial, status, platform, tags; the
	// API nests status, platform, tags and primary_ip as objects and lists
	// under {"results": [...]}):
	// https://netboxlabs.com/docs/sdks/diode-sdk-python/entities
	// Status values: active, offline, planned, staged, failed, inventory,
	// decommissioning; "active" counts as healthy by default.
	{
		Name:   "netbox",
		Export: "NetBox devices (CSV export or REST API JSON)",
		Columns: map[string][]string{
			"id":       {"id", "ID"},
			"hostname": {"name", "Name"},
			"serial":   {"serial", "Serial number"},
			"ip":       {"primary_ip.address", "primary_ip", "Primary IP", "IP Address"},
			"os":       {"platform.name", "platform", "Platform"},
			"groups":   {"tags.name", "tags", "Tags"},
			"state":    {"status.value", "status", "Status"},
		},
		Records: "results",
	},
}

// Presets returns the built-in presets, sorted by name.
func Presets() []Preset {
	out := slices.Clone(presets)
	slices.SortFunc(out, func(a, b Preset) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// PresetNames lists the presets' names, sorted.
func PresetNames() []string {
	var out []string
	for _, p := range Presets() {
		out = append(out, p.Name)
	}
	return out
}

func presetByName(name string) (Preset, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, p := range presets {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}
