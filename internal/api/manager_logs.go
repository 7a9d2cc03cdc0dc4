package api

import (
	"os"
	"slices"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/oplog"
)

// logLines is how many of ossec.log's last lines the log endpoints read,
// as Wazuh does.
const logLines = 2000

var (
	logLevels = []string{"critical", "debug", "debug2", "error", "info", "warning"}
	logSchema = agentql.NewSchema([]agentql.Field{{Name: "timestamp"}, {Name: "tag"}, {Name: "level"},
		{Name: "description"}}, agentql.Lenient())
	logList = secList{msgs: [3]string{"Logs were successfully read", "Could not read logs in some nodes",
		"Could not read logs"}, sortFields: []string{"timestamp", "tag", "level", "description"}, schema: logSchema,
		defaultSort: []agentql.SortField{{Field: "timestamp", Desc: true}}, noID: true}
)

func logParams() []param {
	return append([]param{pInt("offset", 0, 0), pInt("limit", 1, 500), pString("sort", "sort", reSort),
		pString("search", "search", reSearch), pString("tag", "alphanumeric", reAlphanumeric),
		param{name: "level", kind: kString, enum: logLevels}, pString("q", "", nil), pList("select", "names", reNames), pBool("distinct")}, std...)
}

// readLog parses the last lines of the node's ossec.log; 1020 when there
// is none.
func (s *Server) readLog() ([]oplog.Entry, error) {
	lines, err := oplog.Tail(s.nodeInfo().OssecLog, logLines)
	if err != nil {
		if os.IsNotExist(err) || s.nodeInfo().OssecLog == "" {
			return nil, core.E(1020)
		}
		return nil, core.Internal(err)
	}
	out := make([]oplog.Entry, 0, len(lines))
	for _, l := range lines {
		if e, ok := oplog.Parse(l); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// getManagerLogs is GET /manager/logs: the last records of muster's
// operational log, filtered by tag, level, q and search as Wazuh does,
// newest first unless sorted otherwise.
func getManagerLogs(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	entries, err := c.s.readLog()
	if err != nil {
		return err
	}
	tag, level := lastParam(c.q, "tag"), lastParam(c.q, "level")
	items := make([]listItem, 0, len(entries))
	for _, e := range entries {
		if tag != "" && e.Tag != tag || level != "" && e.Level != level {
			continue
		}
		ts := e.Time.UTC().Format("2006-01-02T15:04:05Z")
		items = append(items, listItem{
			obj: Object{{"timestamp", ts}, {"tag", e.Tag}, {"level", e.Level}, {"description", e.Description}},
			m:   map[string]any{"timestamp": ts, "tag": e.Tag, "level": e.Level, "description": e.Description},
		})
	}
	b := core.NewBulk(logList.msgs[0], logList.msgs[1], logList.msgs[2])
	page, total, err := c.processList(items, logList)
	if err != nil {
		return err
	}
	b.Affected, b.Total = page, total
	writeBulk(c.w, c.r, b)
	return nil
}

// getManagerLogSummary is GET /manager/logs/summary: the records of each
// tag by level, tags in order.
func getManagerLogSummary(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	entries, err := c.s.readLog()
	if err != nil {
		return err
	}
	levels := []string{"all", "info", "error", "critical", "warning", "debug"}
	counts := map[string]map[string]int{}
	var tags []string
	for _, e := range entries {
		m, ok := counts[e.Tag]
		if !ok {
			m = map[string]int{}
			counts[e.Tag] = m
			tags = append(tags, e.Tag)
		}
		m["all"]++
		m[e.Level]++
	}
	slices.Sort(tags)
	b := core.NewBulk("Log was successfully summarized", "Could not summarize the log in some nodes",
		"Could not summarize the log")
	for _, t := range tags {
		o := make(Object, 0, len(levels))
		for _, l := range levels {
			o = append(o, Field{l, counts[t][l]})
		}
		b.Add(Object{{t, o}})
	}
	writeBulk(c.w, c.r, b)
	return nil
}
