package api

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/core"
)

var (
	daemonsListParam = param{name: "daemons_list", kind: kList, enum: statDaemons}
	dateParam        = pString("date", "date", regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`))
	statDaemons      = []string{"wazuh-analysisd", "wazuh-remoted", "wazuh-db"}
)

// isoTime is the form Wazuh's API gives datetimes in.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

// getManagerDaemonStats is GET /manager/daemons/stats: remoted's counters
// from muster's secure channel. analysisd has no counterpart and the
// database is not wazuh-db: both are the failed item Wazuh gives for a
// daemon whose socket does not answer.
func getManagerDaemonStats(c *call) error {
	list := listParam(c.q, "daemons_list")
	if err := c.requireResourceless(); err != nil {
		return err
	}
	if len(list) == 0 {
		list = []string{"wazuh-remoted", "wazuh-analysisd", "wazuh-db"}
	}
	n := c.s.nodeInfo()
	b := core.NewBulk("Statistical information for each daemon was successfully read",
		"Could not read statistical information for some daemons",
		"Could not read statistical information for any daemon")
	sockets := map[string]string{"wazuh-remoted": "queue/sockets/remoted", "wazuh-analysisd": "queue/sockets/analysis",
		"wazuh-db": "queue/db/wdb"}
	for _, d := range list {
		rc, ok := n.Remoted()
		if d != "wazuh-remoted" || !ok {
			b.Fail(core.Ef(1121, "%s", filepath.Join(n.Path, sockets[d])), d)
			continue
		}
		b.Add(remotedStats(rc, n.Started, c.s.now()))
	}
	writeBulk(c.w, c.r, b)
	return nil
}

func remotedStats(rc RemotedCounters, started, now time.Time) Object {
	control := rc.Keepalives + rc.Startups + rc.Shutdowns + rc.Requests
	return Object{
		{"uptime", isoTime(started)}, {"timestamp", isoTime(now)}, {"name", "wazuh-remoted"},
		{"metrics", Object{
			{"bytes", Object{{"received", rc.BytesReceived}, {"sent", rc.BytesSent}}},
			{"keys_reload_count", 0},
			{"messages", Object{
				{"received_breakdown", Object{
					{"control", control},
					{"control_breakdown", Object{{"keepalive", rc.Keepalives}, {"request", rc.Requests},
						{"shutdown", rc.Shutdowns}, {"startup", rc.Startups}}},
					{"dequeued_after", 0}, {"discarded", rc.Discarded}, {"event", rc.Events}, {"ping", rc.Pings},
					{"unknown", rc.Unknown}}},
				{"sent_breakdown", Object{{"ack", rc.SentAcks}, {"ar", rc.SentCommands}, {"discarded", rc.SentDiscarded},
					{"request", 0}, {"sca", 0}, {"shared", rc.SentShared}}},
			}},
			{"queues", Object{{"received", Object{{"size", rc.QueueSize}, {"usage", rc.QueueUsage}}}}},
			{"tcp_sessions", rc.TCPSessions},
		}},
	}
}

// getManagerStatsRemoted is the deprecated GET /manager/stats/remoted:
// the same counters in remoted's old state-file form, numbers as floats.
func getManagerStatsRemoted(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	b := core.NewBulk("Statistical information for each node was successfully read",
		"Could not read statistical information for some nodes", "Could not read statistical information for any node")
	n := c.s.nodeInfo()
	rc, ok := n.Remoted()
	if !ok {
		return core.Ef(1308, "%s", filepath.Join(n.Path, "var/run/wazuh-remoted.state"))
	}
	control := rc.Keepalives + rc.Startups + rc.Shutdowns + rc.Requests
	b.Add(Object{{"queue_size", pyFloat(rc.QueueUsage)}, {"total_queue_size", pyFloat(rc.QueueSize)},
		{"tcp_sessions", pyFloat(rc.TCPSessions)}, {"evt_count", pyFloat(rc.Events)},
		{"ctrl_msg_count", pyFloat(control)}, {"discarded_count", pyFloat(rc.Discarded)},
		{"sent_bytes", pyFloat(rc.BytesSent)}, {"recv_bytes", pyFloat(rc.BytesReceived)},
		{"dequeued_after_close", pyFloat(0)}})
	writeBulk(c.w, c.r, b)
	return nil
}

// pyFloat is a number Python prints as a float ("4.0").
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return []byte(s), nil
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// getManagerStats is GET /manager/stats: the analysis engine's totals of a
// day, read from the stats files in Wazuh's layout under the data
// directory (those of an imported manager are served). muster writes none:
// it analyses no events, and a day without a file is Wazuh's 1308.
func getManagerStats(c *call) error {
	day := c.s.now().UTC()
	if v := lastParam(c.q, "date"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return core.BadRequest(fmt.Sprintf("'%s' is not a 'date' - 'date'", v))
		}
		day = t
	}
	if err := c.requireResourceless(); err != nil {
		return err
	}
	path := filepath.Join(c.s.nodeInfo().Path, "stats", "totals", strconv.Itoa(day.Year()), months[day.Month()-1],
		fmt.Sprintf("ossec-totals-%02d.log", day.Day()))
	items, err := readTotals(path)
	if err != nil {
		return err
	}
	b := core.NewBulk("Statistical information for each node was successfully read",
		"Could not read statistical information for some nodes", "Could not read statistical information for any node")
	b.Affected = items
	writeBulk(c.w, c.r, b)
	return nil
}

// readTotals parses an ossec-totals file: "sigid-level-times" lines (the
// alerts of the hour that follows) and "hour--alerts--events--syscheck--
// firewall" lines.
func readTotals(path string) ([]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, core.Ef(1308, "%s", path)
	}
	defer f.Close()
	items := []any{}
	alerts := []any{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if p := strings.Split(line, "-"); len(p) == 4 {
			n, ok := ints(p[1:])
			if !ok {
				return nil, core.E(1309)
			}
			alerts = append(alerts, Object{{"sigid", n[0]}, {"level", n[1]}, {"times", n[2]}})
			continue
		}
		p := strings.Split(line, "--")
		if len(p) <= 1 {
			continue
		}
		n, ok := ints(p)
		if len(p) != 5 || !ok {
			return nil, core.E(1309)
		}
		items = append(items, Object{{"hour", n[0]}, {"alerts", alerts}, {"totalAlerts", n[1]}, {"events", n[2]},
			{"syscheck", n[3]}, {"firewall", n[4]}})
		alerts = []any{}
	}
	if sc.Err() != nil {
		return nil, core.E(1309)
	}
	return items, nil
}

func ints(fields []string) ([]int64, bool) {
	out := make([]int64, len(fields))
	for i, f := range fields {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// readAverages reads the 24 hourly averages and the interaction count of
// a stats directory; a missing file counts 0, as in Wazuh.
func readAverages(dir string) ([]int64, int64) {
	avg := make([]int64, 24)
	var interactions int64
	for i := 0; i <= 24; i++ {
		b, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if i == 24 {
			interactions = n
		} else {
			avg[i] = n
		}
	}
	return avg, interactions
}

func getManagerStatsHourly(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	avg, n := readAverages(filepath.Join(c.s.nodeInfo().Path, "stats", "hourly-average"))
	b := core.NewBulk("Statistical information per hour for each node was successfully read",
		"Could not read statistical information per hour for some nodes",
		"Could not read statistical information per hour for any node")
	b.Add(Object{{"averages", avg}, {"interactions", n}})
	writeBulk(c.w, c.r, b)
	return nil
}

var weekDays = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

func getManagerStatsWeekly(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	b := core.NewBulk("Statistical information per week for each node was successfully read",
		"Could not read statistical information per week for some nodes",
		"Could not read statistical information per week for any node")
	for i, d := range weekDays {
		hours, n := readAverages(filepath.Join(c.s.nodeInfo().Path, "stats", "weekly-average", strconv.Itoa(i)))
		b.Add(Object{{d, Object{{"hours", hours}, {"interactions", n}}}})
	}
	writeBulk(c.w, c.r, b)
	return nil
}
