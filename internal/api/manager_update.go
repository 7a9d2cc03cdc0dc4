package api

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
)

func init() {
	partial["PUT /manager/configuration"] = "the settings muster uses (global agents_disconnection_time, the " +
		"secure remote, auth, cluster node_name) are checked with the messages of Wazuh's readers and applied at " +
		"the next restart; other sections are checked by name only and stored; VirusTotal keys are not looked up " +
		"(with public_key.allow off a virustotal integration is refused with 1131)"
	partial["PUT /manager/restart"] = "restarts remoted, authd and the disconnection monitor with the stored " +
		"configuration, after checking it (1908 when invalid); the API keeps running with its settings, and " +
		"cluster node_name needs the process restarted"
}

// updErr is Wazuh's error code, with its ": extra" when extra is set.
func updErr(code int, extra string) *core.Error {
	if extra == "" {
		return core.E(code)
	}
	return core.Ef(code, "%s", extra)
}

// ossecErr turns a configuration muster refuses into Wazuh's answer: 1113
// for malformed XML (Wazuh gives no detail then), else 1908 with the
// readers' messages.
func ossecErr(err error, upload bool) *core.Error {
	var oe *config.OssecError
	if !errors.As(err, &oe) {
		return core.Internal(err)
	}
	if oe.Syntax && upload {
		return core.E(1113)
	}
	return updErr(1908, strings.Join(oe.Messages, ", "))
}

// baseConf is the configuration an uploaded ossec.conf is layered over.
func (s *Server) baseConf() config.Config {
	if s.node.Base != nil {
		return *s.node.Base
	}
	return s.cfg
}

// settings are the settings muster's daemons run with now.
func (s *Server) settings() config.Config {
	if s.node.Settings != nil {
		return s.node.Settings()
	}
	return s.cfg
}

// storedConf is the configuration the next restart applies: the base with
// the stored ossec.conf over it, and that file (nil when none was
// uploaded). Values the file gets wrong keep the base's, so that what is
// stored can still be read.
func (s *Server) storedConf() (config.Config, *config.OssecFile, error) {
	base := s.baseConf()
	dir := s.nodeInfo().Path
	if dir == "" {
		return base, nil, nil
	}
	f, _, err := config.ReadStoredOssecConf(dir)
	if err != nil || f == nil {
		return base, nil, err
	}
	if cfg, err := f.Apply(base); err == nil {
		return cfg, f, nil
	}
	return base, f, nil
}

// checkStored validates the stored configuration as a restart would.
func (s *Server) checkStored() *core.Error {
	dir := s.nodeInfo().Path
	if dir == "" {
		return nil
	}
	if _, _, err := config.Layered(s.baseConf(), dir); err != nil {
		var oe *config.OssecError
		if errors.As(err, &oe) {
			return ossecErr(err, false)
		}
		e := core.E(1005)
		e.Err = err
		return e
	}
	return nil
}

// putManagerConfiguration is PUT /manager/configuration: the body, an
// ossec.conf, is checked as Wazuh checks it (XML, the api.yaml
// upload_configuration protections, the readers' checks) and stored for
// the next restart. Failures are the failed item of a 200, as in Wazuh.
func putManagerConfiguration(c *call) error {
	ct := c.r.Header.Get("Content-Type")
	if ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/octet-stream" {
			return core.Problem(415, "Unsupported Media Type",
				fmt.Sprintf("Invalid Content-type (%s), expected ['application/octet-stream']", ct))
		}
	}
	body, err := c.body()
	if err != nil {
		return err
	}
	local := func(code int) error {
		e := core.E(code)
		e.Local = true
		return e
	}
	switch {
	case len(body) == 0:
		return local(1912)
	case !utf8.Valid(body):
		return local(1911)
	case ct == "":
		return local(6002)
	}
	if err := c.requireResourceless(); err != nil {
		return err
	}
	b := core.NewBulk("Configuration was successfully updated", "Could not update configuration in some nodes",
		"Could not update configuration")
	if e := c.s.updateOssecConf(body); e != nil {
		b.Fail(e, c.managerID())
	} else {
		b.Add(c.managerID())
	}
	writeBulk(c.w, c.r, b)
	return nil
}

// updateOssecConf checks and stores an uploaded ossec.conf.
func (s *Server) updateOssecConf(body []byte) *core.Error {
	f, err := config.ParseOssecConf(body)
	if err != nil {
		return ossecErr(err, true)
	}
	current, err := s.currentOssecFile()
	if err != nil {
		return core.Internal(err)
	}
	if e := checkProtected(uploadSettings(s.cfg.API.UploadConfiguration), f, current); e != nil {
		return e
	}
	next, err := f.Apply(s.baseConf())
	if err != nil {
		return ossecErr(err, true)
	}
	dir := s.nodeInfo().Path
	if dir == "" {
		return updErr(1126, "")
	}
	if err := config.WriteStoredOssecConf(dir, body); err != nil {
		s.log.Error("cannot store the uploaded ossec.conf", "err", err)
		return updErr(1126, "")
	}
	if changed := config.Changed(s.settings(), next); len(changed) > 0 {
		s.log.Info("ossec.conf stored; PUT /manager/restart applies it", "pending", strings.Join(changed, ","))
	} else {
		s.log.Info("ossec.conf stored; the settings muster uses are unchanged")
	}
	return nil
}

// currentOssecFile is the configuration an upload is compared with for
// the protected sections: the stored file, or muster's rendering when
// none was uploaded.
func (s *Server) currentOssecFile() (*config.OssecFile, error) {
	cfg, f, err := s.storedConf()
	if err != nil {
		var oe *config.OssecError
		if !errors.As(err, &oe) {
			return nil, err
		}
		f = nil // a broken stored file protects nothing
	}
	return config.ParseOssecConf([]byte(cfg.OssecConfStored(s.clusterEnabled(), f)))
}

// putManagerRestart is PUT /manager/restart: Wazuh answers 202 once the
// request is sent and restarts afterwards; muster checks the stored
// configuration first and refuses an invalid one with 1908.
func putManagerRestart(c *call) error {
	for i := range c.access.Checks {
		if _, err := c.authorize(i, nil); err != nil {
			return err
		}
	}
	restart := c.s.nodeInfo().Restart
	if restart == nil {
		return updErr(1901, "")
	}
	b := core.NewBulk("Restart request sent to ", "Could not send restart request to some specified nodes",
		"Could not send restart request to any node")
	if err := restart(); err != nil {
		b.Fail(ossecErr(err, false), c.managerID())
	} else {
		b.Add(c.managerID())
	}
	body, err := encode(bulkObject(b), isPretty(c.r, false))
	if err != nil {
		return core.Internal(err)
	}
	c.w.Header().Set("Content-Type", contentJSON)
	c.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(http.StatusAccepted)
	c.w.Write(body)
	return nil
}
