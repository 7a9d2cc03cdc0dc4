package sqlstore

import (
	"database/sql"
	"strings"

	"github.com/muster-project/muster/internal/core"
)

// agentCol is one API field of the agent record: the SQL expression that
// reads it and how a scanned value lands in a core.Agent.
type agentCol struct {
	field core.AgentField
	name  string // API name
	expr  string
	text  bool // a text column (an empty string counts as "no value" for distinct)
	set   func(a *core.Agent, v *scanVal)
}

// scanVal receives one column of one row.
type scanVal struct {
	s sql.NullString
	n sql.NullInt64
}

func (v *scanVal) str() core.Null[string] { return core.Null[string]{V: v.s.String, Valid: v.s.Valid} }

// agentCols lists the fields in the order Wazuh's record shows them.
var agentCols = []agentCol{
	{core.FieldID, "id", "id", false, func(a *core.Agent, v *scanVal) { a.ID = int(v.n.Int64) }},
	{core.FieldName, "name", "name", true, func(a *core.Agent, v *scanVal) { a.Name = v.s.String }},
	{core.FieldIP, "ip", "coalesce(ip, register_ip)", true, func(a *core.Agent, v *scanVal) { a.IP = v.str() }},
	{core.FieldRegisterIP, "registerIP", "register_ip", true, func(a *core.Agent, v *scanVal) { a.RegisterIP = v.str() }},
	{core.FieldStatus, "status", "connection_status", true, func(a *core.Agent, v *scanVal) { a.Status = v.s.String }},
	{core.FieldStatusCode, "status_code", "status_code", false, func(a *core.Agent, v *scanVal) { a.StatusCode = int(v.n.Int64) }},
	{core.FieldOSArch, "os.arch", "os_arch", true, func(a *core.Agent, v *scanVal) { a.OS.Arch = v.str() }},
	{core.FieldOSBuild, "os.build", "os_build", true, func(a *core.Agent, v *scanVal) { a.OS.Build = v.str() }},
	{core.FieldOSCodename, "os.codename", "os_codename", true, func(a *core.Agent, v *scanVal) { a.OS.Codename = v.str() }},
	{core.FieldOSMajor, "os.major", "os_major", true, func(a *core.Agent, v *scanVal) { a.OS.Major = v.str() }},
	{core.FieldOSMinor, "os.minor", "os_minor", true, func(a *core.Agent, v *scanVal) { a.OS.Minor = v.str() }},
	{core.FieldOSName, "os.name", "os_name", true, func(a *core.Agent, v *scanVal) { a.OS.Name = v.str() }},
	{core.FieldOSPlatform, "os.platform", "os_platform", true, func(a *core.Agent, v *scanVal) { a.OS.Platform = v.str() }},
	{core.FieldOSUname, "os.uname", "os_uname", true, func(a *core.Agent, v *scanVal) { a.OS.Uname = v.str() }},
	{core.FieldOSVersion, "os.version", "os_version", true, func(a *core.Agent, v *scanVal) { a.OS.Version = v.str() }},
	{core.FieldVersion, "version", "version", true, func(a *core.Agent, v *scanVal) { a.Version = v.str() }},
	{core.FieldManager, "manager", "manager_host", true, func(a *core.Agent, v *scanVal) { a.Manager = v.str() }},
	{core.FieldNodeName, "node_name", "node_name", true, func(a *core.Agent, v *scanVal) { a.NodeName = v.str() }},
	{core.FieldDateAdd, "dateAdd", "date_add", false, func(a *core.Agent, v *scanVal) { a.DateAdd = v.n.Int64 }},
	{core.FieldLastKeepAlive, "lastKeepAlive", "last_keepalive", false, func(a *core.Agent, v *scanVal) {
		a.LastKeepAlive = core.Null[int64]{V: v.n.Int64, Valid: v.n.Valid}
	}},
	{core.FieldDisconnectionTime, "disconnection_time", "disconnection_time", false, func(a *core.Agent, v *scanVal) {
		a.DisconnectionTime = v.n.Int64
	}},
	{core.FieldGroup, "group", `"group"`, true, func(a *core.Agent, v *scanVal) { a.Groups = splitGroups(v.s) }},
	{core.FieldMergedSum, "mergedSum", "merged_sum", true, func(a *core.Agent, v *scanVal) { a.MergedSum = v.str() }},
	{core.FieldConfigSum, "configSum", "config_sum", true, func(a *core.Agent, v *scanVal) { a.ConfigSum = v.str() }},
	{core.FieldGroupConfigStatus, "group_config_status", "group_config_status", true, func(a *core.Agent, v *scanVal) {
		a.GroupConfigStatus = v.s.String
	}},
}

var agentColByName = func() map[string]*agentCol {
	m := make(map[string]*agentCol, len(agentCols))
	for i := range agentCols {
		m[agentCols[i].name] = &agentCols[i]
	}
	return m
}()

// splitGroups reads the group CSV; NULL and "" are no group.
func splitGroups(s sql.NullString) []string {
	if !s.Valid || s.String == "" {
		return nil
	}
	return strings.Split(s.String, ",")
}

// joinGroups writes the group CSV; no group is NULL.
func joinGroups(groups []string) any {
	if len(groups) == 0 {
		return nil
	}
	return strings.Join(groups, ",")
}

// colsFor returns the columns of a field set in record order.
func colsFor(set core.AgentField) []*agentCol {
	var out []*agentCol
	for i := range agentCols {
		if set.Has(agentCols[i].field) {
			out = append(out, &agentCols[i])
		}
	}
	return out
}

// rowScanner scans rows of a fixed column list into agents, reusing its buffers.
type rowScanner struct {
	cols []*agentCol
	vals []scanVal
	dest []any
}

func newRowScanner(cols []*agentCol) *rowScanner {
	r := &rowScanner{cols: cols, vals: make([]scanVal, len(cols)), dest: make([]any, len(cols))}
	for i, c := range cols {
		if c.text {
			r.dest[i] = &r.vals[i].s
		} else {
			r.dest[i] = &r.vals[i].n
		}
	}
	return r
}

func (r *rowScanner) scan(rows *sql.Rows, a *core.Agent) error {
	if err := rows.Scan(r.dest...); err != nil {
		return err
	}
	for i, c := range r.cols {
		c.set(a, &r.vals[i])
	}
	return nil
}

func nullStr(n core.Null[string]) any {
	if !n.Valid {
		return nil
	}
	return n.V
}

func nullInt(n core.Null[int64]) any {
	if !n.Valid {
		return nil
	}
	return n.V
}
