package core

import (
	"strconv"
	"time"
)

// Agent connection statuses, the values of global.db's connection_status.
const (
	AgentActive         = "active"
	AgentPending        = "pending"
	AgentNeverConnected = "never_connected"
	AgentDisconnected   = "disconnected"
)

// AgentStatuses lists the statuses in the order Wazuh's summaries use.
var AgentStatuses = []string{AgentActive, AgentDisconnected, AgentNeverConnected, AgentPending}

// Agent status codes (agents.md §2.3).
const (
	StatusCodeOK             = 0 // default; reset on every keepalive
	StatusCodeInvalidVersion = 1 // agent newer than the manager
	StatusCodeVersionRecv    = 2 // version unreadable in the startup message
	StatusCodeShutdown       = 3 // the agent said it was shutting down
	StatusCodeNoKeepalive    = 4 // disconnected by the keepalive sweep
	StatusCodeReset          = 5 // disconnected because the manager restarted
)

// Group configuration sync states (group_config_status).
const (
	ConfigSynced    = "synced"
	ConfigNotSynced = "not synced"
)

// ManagerKeepalive is agent 000's last keepalive: 9999-12-31T23:59:59Z.
const ManagerKeepalive int64 = 253402300799

// DefaultGroup is the group every agent falls back to.
const DefaultGroup = "default"

// Null is a value that may be SQL NULL (absent from the agent's JSON).
type Null[T any] struct {
	V     T
	Valid bool
}

// Some returns a non-NULL value.
func Some[T any](v T) Null[T] { return Null[T]{V: v, Valid: true} }

// AgentOS is what an agent reports about its operating system.
type AgentOS struct {
	Arch, Build, Codename, Major, Minor, Name, Platform, Uname, Version Null[string]
}

// Agent is one row of the agent registry, the fields Wazuh's global.db keeps
// (agents.md §1.1). Lists load only the selected fields; the others stay zero.
type Agent struct {
	ID                int
	Name              string
	IP                Null[string] // last source address; NULL until the agent connects
	RegisterIP        Null[string] // "any", an address or a network
	Key               string       // the 64-hex key (internal_key); never listed
	OS                AgentOS
	Version           Null[string] // "Wazuh vX.Y.Z"
	ConfigSum         Null[string]
	MergedSum         Null[string]
	Manager           Null[string] // host name of the manager the agent reports to
	NodeName          Null[string]
	DateAdd           int64       // registration, epoch seconds
	LastKeepAlive     Null[int64] // epoch seconds
	Groups            []string    // in priority order; nil is NULL
	Status            string      // connection_status
	StatusCode        int         // see StatusCode*
	DisconnectionTime int64       // epoch seconds; 0 when not disconnected
	GroupConfigStatus string      // ConfigSynced or ConfigNotSynced
}

// FormatAgentID renders an id as Wazuh does: zero-padded to three digits.
func FormatAgentID(id int) string {
	if id >= 0 && id < 100 {
		s := strconv.Itoa(id)
		return "000"[:3-len(s)] + s
	}
	return strconv.Itoa(id)
}

// ParseAgentID reads an id of the API ("001", "1000"). Only the canonical
// spelling names an agent: "0001" and "01" name none, as in Wazuh where ids
// are the strings of client.keys.
func ParseAgentID(s string) (int, bool) {
	if len(s) < 3 || len(s) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || FormatAgentID(n) != s {
		return 0, false
	}
	return n, true
}

// FormatDate renders an epoch the way Wazuh's API serialises dates.
func FormatDate(epoch int64) string {
	return time.Unix(epoch, 0).UTC().Format("2006-01-02T15:04:05") + "+00:00"
}

// AgentField is one field of the agent record, as a bit of a FieldSet.
type AgentField uint32

// The agent fields of the API (agents.md §1.2).
const (
	FieldID AgentField = 1 << iota
	FieldName
	FieldIP
	FieldRegisterIP
	FieldStatus
	FieldStatusCode
	FieldOSArch
	FieldOSBuild
	FieldOSCodename
	FieldOSMajor
	FieldOSMinor
	FieldOSName
	FieldOSPlatform
	FieldOSUname
	FieldOSVersion
	FieldVersion
	FieldManager
	FieldNodeName
	FieldDateAdd
	FieldLastKeepAlive
	FieldDisconnectionTime
	FieldGroup
	FieldMergedSum
	FieldConfigSum
	FieldGroupConfigStatus

	// AllAgentFields selects every field.
	AllAgentFields = FieldGroupConfigStatus<<1 - 1
	// FieldsOS are the os.* fields.
	FieldsOS = FieldOSArch | FieldOSBuild | FieldOSCodename | FieldOSMajor | FieldOSMinor | FieldOSName |
		FieldOSPlatform | FieldOSUname | FieldOSVersion
)

// agentFieldNames maps API names to fields.
var agentFieldNames = map[string]AgentField{
	"id": FieldID, "name": FieldName, "ip": FieldIP, "registerIP": FieldRegisterIP, "status": FieldStatus,
	"status_code": FieldStatusCode, "os.arch": FieldOSArch, "os.build": FieldOSBuild,
	"os.codename": FieldOSCodename, "os.major": FieldOSMajor, "os.minor": FieldOSMinor, "os.name": FieldOSName,
	"os.platform": FieldOSPlatform, "os.uname": FieldOSUname, "os.version": FieldOSVersion,
	"version": FieldVersion, "manager": FieldManager, "node_name": FieldNodeName, "dateAdd": FieldDateAdd,
	"lastKeepAlive": FieldLastKeepAlive, "disconnection_time": FieldDisconnectionTime, "group": FieldGroup,
	"mergedSum": FieldMergedSum, "configSum": FieldConfigSum, "group_config_status": FieldGroupConfigStatus,
}

// AgentFieldByName returns the field with this API name.
func AgentFieldByName(name string) (AgentField, bool) {
	f, ok := agentFieldNames[name]
	return f, ok
}

// AgentFieldsOf returns the set of the named fields; unknown names are skipped.
func AgentFieldsOf(names []string) AgentField {
	var set AgentField
	for _, n := range names {
		set |= agentFieldNames[n]
	}
	return set
}

// Has reports whether every field of f is in the set.
func (set AgentField) Has(f AgentField) bool { return set&f == f }

// Any reports whether some field of f is in the set.
func (set AgentField) Any(f AgentField) bool { return set&f != 0 }
