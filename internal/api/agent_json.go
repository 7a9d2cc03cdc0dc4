package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/pyjson"
)

// The agent lists can hold 100,000 records: they are written straight into
// one buffer in Python's format (", " and ": " separators, non-ASCII
// escaped) instead of going through reflection.

// agentObj writes the keys of one JSON object, separating them.
type agentObj struct {
	b     []byte
	first bool
}

func (o *agentObj) key(k string) {
	if o.first {
		o.first = false
	} else {
		o.b = append(o.b, ", "...)
	}
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, `": `...)
}

func (o *agentObj) str(k string, v string) {
	o.key(k)
	o.b = pyjson.AppendString(o.b, v)
}

func (o *agentObj) opt(k string, v core.Null[string], want bool) {
	if want && v.Valid {
		o.str(k, v.V)
	}
}

func (o *agentObj) date(k string, v int64) {
	o.key(k)
	o.b = append(o.b, '"')
	o.b = appendDate(o.b, v)
	o.b = append(o.b, '"')
}

// appendDate writes core.FormatDate(epoch) without going through a layout.
func appendDate(b []byte, epoch int64) []byte {
	t := time.Unix(epoch, 0).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 0 || y > 9999 {
		return append(b, core.FormatDate(epoch)...)
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	seps := "-T::+"
	for i, v := range [5]int{int(mo), d, h, mi, s} {
		b = append(b, byte('0'+v/10), byte('0'+v%10), seps[i])
	}
	return append(b, "00:00"...)
}

// appendAgent writes one agent record with the fields of set, in the key
// order Wazuh 4.14.7 answers with (agents_all.json of the fixtures). NULL
// fields and a zero disconnection_time are left out.
func appendAgent(b []byte, a *core.Agent, set core.AgentField, withID bool) []byte {
	o := agentObj{b: append(b, '{'), first: true}
	os := &a.OS
	osFields := []struct {
		f core.AgentField
		k string
		v core.Null[string]
	}{
		{core.FieldOSArch, "arch", os.Arch}, {core.FieldOSBuild, "build", os.Build},
		{core.FieldOSCodename, "codename", os.Codename}, {core.FieldOSMajor, "major", os.Major},
		{core.FieldOSMinor, "minor", os.Minor}, {core.FieldOSName, "name", os.Name},
		{core.FieldOSPlatform, "platform", os.Platform}, {core.FieldOSUname, "uname", os.Uname},
		{core.FieldOSVersion, "version", os.Version},
	}
	if set.Any(core.FieldsOS) {
		inner := agentObj{first: true}
		for _, f := range osFields {
			if set.Has(f.f) && f.v.Valid {
				if inner.b == nil {
					inner.b = append(inner.b, '{')
				}
				inner.str(f.k, f.v.V)
			}
		}
		if inner.b != nil {
			o.key("os")
			o.b = append(append(o.b, inner.b...), '}')
		}
	}
	if set.Has(core.FieldDisconnectionTime) && a.DisconnectionTime != 0 {
		o.date("disconnection_time", a.DisconnectionTime)
	}
	o.opt("mergedSum", a.MergedSum, set.Has(core.FieldMergedSum))
	o.opt("version", a.Version, set.Has(core.FieldVersion))
	if withID {
		o.str("id", core.FormatAgentID(a.ID))
	}
	o.opt("configSum", a.ConfigSum, set.Has(core.FieldConfigSum))
	if set.Has(core.FieldStatus) {
		o.str("status", a.Status)
	}
	if set.Has(core.FieldName) {
		o.str("name", a.Name)
	}
	o.opt("registerIP", a.RegisterIP, set.Has(core.FieldRegisterIP))
	o.opt("manager", a.Manager, set.Has(core.FieldManager))
	if set.Has(core.FieldGroup) && a.Groups != nil {
		o.key("group")
		o.b = append(o.b, '[')
		for i, g := range a.Groups {
			if i > 0 {
				o.b = append(o.b, ", "...)
			}
			o.b = pyjson.AppendString(o.b, g)
		}
		o.b = append(o.b, ']')
	}
	o.opt("ip", a.IP, set.Has(core.FieldIP))
	if set.Has(core.FieldDateAdd) {
		o.date("dateAdd", a.DateAdd)
	}
	if set.Has(core.FieldStatusCode) {
		o.key("status_code")
		o.b = strconv.AppendInt(o.b, int64(a.StatusCode), 10)
	}
	o.opt("node_name", a.NodeName, set.Has(core.FieldNodeName))
	if set.Has(core.FieldGroupConfigStatus) {
		o.str("group_config_status", a.GroupConfigStatus)
	}
	if set.Has(core.FieldLastKeepAlive) && a.LastKeepAlive.Valid {
		o.date("lastKeepAlive", a.LastKeepAlive.V)
	}
	return append(o.b, '}')
}

// agentRaw is one agent as a value for the generic encoder.
func agentRaw(a *core.Agent) json.RawMessage {
	return appendAgent(nil, a, core.AllAgentFields, true)
}

// bigBody is the size from which a response's memory goes back to the
// operating system once sent, so a manager that just listed 100,000 agents
// does not stay hundreds of megabytes large while idle.
const bigBody = 16 << 20

// agentChunk is the size of the pieces a large list is written in: growing
// one buffer to 65 MB would copy it over and over.
const agentChunk = 1 << 20

// writeAgentPage answers an agent list with the affected-items envelope,
// rendering the agents as the store reads them.
func writeAgentPage(w http.ResponseWriter, r *http.Request, p *core.AgentPage) error {
	var chunks [][]byte
	b := make([]byte, 0, 16<<10)
	b = append(b, `{"data": {"affected_items": [`...)
	first := true
	withID := !p.Distinct || p.Fields.Has(core.FieldID)
	err := p.Each(func(a *core.Agent) error {
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = appendAgent(b, a, p.Fields, withID)
		if len(b) > agentChunk-8<<10 {
			chunks = append(chunks, b)
			b = make([]byte, 0, agentChunk)
		}
		return nil
	})
	if err != nil {
		return err
	}
	chunks = append(chunks, agentEnvelopeTail(b, p.Bulk))
	size := 0
	for _, c := range chunks {
		size += len(c)
	}
	if isPretty(r, false) {
		writeRawJSON(w, r, bytes.Join(chunks, nil))
	} else {
		w.Header().Set("Content-Type", contentJSON)
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.WriteHeader(http.StatusOK)
		for _, c := range chunks {
			if _, err := w.Write(c); err != nil {
				break
			}
		}
	}
	if size > bigBody {
		chunks = nil
		debug.FreeOSMemory()
	}
	return nil
}

// agentEnvelopeTail closes an affected-items envelope whose items are written.
func agentEnvelopeTail(b []byte, bulk *core.Bulk) []byte {
	failed := []failedItem{}
	for _, g := range bulk.FailedGroups() {
		failed = append(failed, failedItem{
			Error: failedError{Code: g.Err.Code, Message: g.Err.Detail, Remediation: g.Err.Remediation},
			ID:    g.IDs})
	}
	fb, _ := encode(failed, false)
	msg, code := bulk.Message()
	b = append(b, `], "total_affected_items": `...)
	b = strconv.AppendInt(b, int64(bulk.AffectedCount()), 10)
	b = append(b, `, "total_failed_items": `...)
	b = strconv.AppendInt(b, int64(bulk.FailedCount()), 10)
	b = append(b, `, "failed_items": `...)
	b = append(b, fb...)
	b = append(b, `}, "message": `...)
	b = pyjson.AppendString(b, msg)
	b = append(b, `, "error": `...)
	b = strconv.AppendInt(b, int64(code), 10)
	return append(b, '}')
}

// writeRawJSON sends an already encoded 200 body, indented for pretty=true.
func writeRawJSON(w http.ResponseWriter, r *http.Request, body []byte) {
	if isPretty(r, false) {
		var out bytes.Buffer
		if err := json.Indent(&out, body, "", "   "); err == nil {
			body = out.Bytes()
		}
	}
	w.Header().Set("Content-Type", contentJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
