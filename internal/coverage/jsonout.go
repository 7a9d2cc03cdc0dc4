package coverage

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// The report's devices and findings are written by hand: encoding/json
// reflects over every record and re-validates what each MarshalJSON
// returns, which was two thirds of writing a 100,000-device report. The
// bytes are encoding/json's (TestJSONWriterMatchesEncodingJSON).

// jsonOut appends JSON values to a buffer. A time that encoding/json
// refuses to write (a year past 9999) is kept in err, as Encode would
// return it.
type jsonOut struct {
	b   []byte
	err error
}

func (o *jsonOut) raw(s string) { o.b = append(o.b, s...) }

// str writes s as encoding/json does, HTML escaping included.
func (o *jsonOut) str(s string) {
	if needsEscape(s) {
		enc, _ := json.Marshal(s)
		o.b = append(o.b, enc...)
		return
	}
	o.b = append(o.b, '"')
	o.b = append(o.b, s...)
	o.b = append(o.b, '"')
}

// key writes ,"name": (every object opens with its first key written raw).
func (o *jsonOut) key(name string) {
	o.b = append(o.b, ',', '"')
	o.b = append(o.b, name...)
	o.b = append(o.b, '"', ':')
}

// list writes n elements, item writing each; a nil slice (isNil) is null,
// as encoding/json has it.
func (o *jsonOut) list(isNil bool, n int, item func(i int)) {
	if isNil {
		o.raw("null")
		return
	}
	o.b = append(o.b, '[')
	for i := range n {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		item(i)
	}
	o.b = append(o.b, ']')
}

// strs writes a list of strings.
func (o *jsonOut) strs(l []string) { o.list(l == nil, len(l), func(i int) { o.str(l[i]) }) }

func (o *jsonOut) time(t time.Time) {
	enc, err := t.MarshalJSON()
	if err != nil && o.err == nil {
		o.err = err
	}
	o.b = append(o.b, enc...)
}

func (o *jsonOut) bool(v bool) { o.b = strconv.AppendBool(o.b, v) }

func (o *jsonOut) int(v int) { o.b = strconv.AppendInt(o.b, int64(v), 10) }

// float writes a float64 as encoding/json does (NaN and infinities do not
// occur: gaps are differences of times).
func (o *jsonOut) float(f float64) {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	o.b = strconv.AppendFloat(o.b, f, format, -1, 64)
	if n := len(o.b); format == 'e' && n >= 4 && o.b[n-4] == 'e' && o.b[n-3] == '-' && o.b[n-2] == '0' {
		o.b[n-2] = o.b[n-1] // e-09 is e-9
		o.b = o.b[:n-1]
	}
}

// record writes a Record as its struct tags say.
func (o *jsonOut) record(r *Record) {
	o.raw(`{"source":`)
	o.str(r.Source)
	o.key("id")
	o.str(r.ID)
	if r.Hostname != "" {
		o.key("hostname")
		o.str(r.Hostname)
	}
	if r.Serial != "" {
		o.key("serial")
		o.str(r.Serial)
	}
	if len(r.MACs) > 0 {
		o.key("macs")
		o.strs(r.MACs)
	}
	if len(r.IPs) > 0 {
		o.key("ips")
		o.strs(r.IPs)
	}
	if r.OS != "" {
		o.key("os")
		o.str(r.OS)
	}
	if len(r.Groups) > 0 {
		o.key("groups")
		o.strs(r.Groups)
	}
	o.recordTail(r)
}

// recordTail writes what a record and its evidence both end with.
func (o *jsonOut) recordTail(r *Record) {
	o.key("state")
	o.str(r.State)
	o.key("healthy")
	o.bool(r.Healthy)
	if !r.LastSeen.IsZero() {
		o.key("last_seen")
		o.time(r.LastSeen)
	}
	if r.Fields != "" {
		o.key("fields")
		o.b = r.Fields.appendJSON(o.b)
	}
	o.key("read_at")
	o.time(r.ReadAt)
	o.key("request")
	o.str(r.Request)
	o.b = append(o.b, '}')
}

// evidence writes what Evidence.MarshalJSON writes.
func (o *jsonOut) evidence(e Evidence) {
	r := e.Record
	o.raw(`{"source":`)
	o.str(r.Source)
	o.key("record_id")
	o.str(r.ID)
	if r.Hostname != "" {
		o.key("hostname")
		o.str(r.Hostname)
	}
	o.recordTail(r)
}

func (o *jsonOut) device(d *Device) {
	o.raw(`{"id":`)
	o.str(d.ID)
	o.key("name")
	o.str(d.Name)
	o.key("records")
	o.list(d.Records == nil, len(d.Records), func(i int) {
		if d.Records[i] == nil {
			o.raw("null")
		} else {
			o.record(d.Records[i])
		}
	})
	o.key("joins")
	o.list(d.Joins == nil, len(d.Joins), func(i int) { o.join(&d.Joins[i]) })
	o.b = append(o.b, '}')
}

// join writes what Join.MarshalJSON writes.
func (o *jsonOut) join(j *Join) {
	o.raw(`{"by":`)
	o.str(j.By)
	o.key("value")
	o.str(j.Value)
	o.key("records")
	o.list(false, len(j.Records), func(i int) { o.str(j.Records[i].Source + "/" + j.Records[i].ID) })
	if len(j.IPs) > 0 {
		o.key("corroborating_ips")
		o.strs(j.IPs)
	}
	o.b = append(o.b, '}')
}

func (o *jsonOut) finding(f *Finding) {
	o.raw(`{"key":`)
	o.str(f.Key)
	o.key("kind")
	o.str(f.Kind)
	o.key("device")
	o.str(f.Device)
	o.key("name")
	o.str(f.Name)
	o.key("sources")
	o.strs(f.Sources)
	o.key("message")
	o.str(f.Text())
	o.key("evidence")
	o.list(f.Evidence == nil, len(f.Evidence), func(i int) { o.evidence(f.Evidence[i]) })
	if s := f.SilentDetail(); s != nil {
		o.key("silent")
		o.raw(`{"alive_source":`)
		o.str(s.AliveSource)
		o.key("alive_state")
		o.str(s.AliveState)
		o.key("alive_at")
		o.time(s.AliveAt)
		o.key("agent_source")
		o.str(s.AgentSource)
		o.key("agent_state")
		o.str(s.AgentState)
		if !s.AgentSeen.IsZero() {
			o.key("agent_last_seen")
			o.time(s.AgentSeen)
		}
		o.key("gap_seconds")
		o.float(s.GapSeconds)
		o.b = append(o.b, '}')
	}
	if f.Requirement != nil {
		o.key("requirement")
		o.int(*f.Requirement)
	}
	o.b = append(o.b, '}')
}
