package importer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"go.yaml.in/yaml/v3"
)

// readSecurityYAML overlays security.yaml's keys on Wazuh's defaults.
func readSecurityYAML(path string) (*core.SecurityConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := core.DefaultSecurityConfig()
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for k, v := range raw {
		switch k {
		case "auth_token_exp_timeout":
			n, ok := v.(int)
			if !ok || n < 30 {
				return nil, fmt.Errorf("%s: auth_token_exp_timeout must be an integer of at least 30", path)
			}
			c.AuthTokenExpTimeout = n
		case "rbac_mode":
			s, _ := v.(string)
			if s != "white" && s != "black" {
				return nil, fmt.Errorf("%s: rbac_mode must be white or black", path)
			}
			c.RBACMode = s
		default:
			return nil, fmt.Errorf("%s: unknown key %q", path, k)
		}
	}
	return &c, nil
}

func checkSigningKey(b []byte) error {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return errors.New("no PEM block")
	}
	var key any
	var err error
	if blk.Type == "EC PRIVATE KEY" {
		key, err = x509.ParseECPrivateKey(blk.Bytes)
	} else {
		key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	}
	if err != nil {
		return err
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve.Params().BitSize != 521 {
		return errors.New("not an EC P-521 (ES512) private key")
	}
	return nil
}

// ossecSettings are the ossec.conf values muster uses.
type ossecSettings struct {
	DisconnectionTime int    // seconds; 0 when absent
	RemotePort        int    // first secure <remote>
	RemoteProtocol    string // tcp, udp or tcp,udp
	AuthPort          int
	AuthDisabled      bool
	NodeName          string
}

func (s *ossecSettings) summary() string {
	var parts []string
	if s.DisconnectionTime > 0 {
		parts = append(parts, "agents_disconnection_time="+strconv.Itoa(s.DisconnectionTime)+"s")
	}
	if s.RemotePort > 0 {
		parts = append(parts, "remote port="+strconv.Itoa(s.RemotePort))
	}
	if s.RemoteProtocol != "" {
		parts = append(parts, "remote protocol="+s.RemoteProtocol)
	}
	if s.AuthPort > 0 {
		parts = append(parts, "auth port="+strconv.Itoa(s.AuthPort))
	}
	if s.AuthDisabled {
		parts = append(parts, "auth disabled")
	}
	if s.NodeName != "" {
		parts = append(parts, "node_name="+s.NodeName)
	}
	if len(parts) == 0 {
		return "none found"
	}
	return strings.Join(parts, ", ")
}

// readOssecConf walks ossec.conf (one or more <ossec_config> blocks) for the
// settings muster uses.
func readOssecConf(path string) (*ossecSettings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// ossec.conf has several top-level blocks: wrap it so it is one document.
	dec := xml.NewDecoder(io.MultiReader(strings.NewReader("<root>"), bytes.NewReader(b), strings.NewReader("</root>")))
	dec.Strict = false
	s := &ossecSettings{}
	var stack []string
	var text strings.Builder
	remoteSecure := false
	remoteDone := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			text.Reset()
			if t.Name.Local == "remote" {
				remoteSecure = true
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			v := strings.TrimSpace(text.String())
			text.Reset()
			parent := ""
			if len(stack) >= 2 {
				parent = stack[len(stack)-2]
			}
			line, _ := dec.InputPos()
			switch {
			case parent == "global" && t.Name.Local == "agents_disconnection_time":
				n, err := config.ParseTimeframe(v)
				if err != nil {
					return nil, fmt.Errorf("%s line %d: agents_disconnection_time: %w", path, line, err)
				}
				s.DisconnectionTime = int(n)
			case parent == "remote" && t.Name.Local == "connection":
				remoteSecure = v == "secure"
			case parent == "remote" && t.Name.Local == "port" && !remoteDone:
				if n, err := strconv.Atoi(v); err == nil {
					s.RemotePort = n
				} else {
					return nil, fmt.Errorf("%s line %d: remote port %q", path, line, v)
				}
			case parent == "remote" && t.Name.Local == "protocol" && !remoteDone:
				s.RemoteProtocol = strings.ToLower(strings.ReplaceAll(v, " ", ""))
			case parent == "auth" && t.Name.Local == "port":
				if n, err := strconv.Atoi(v); err == nil {
					s.AuthPort = n
				} else {
					return nil, fmt.Errorf("%s line %d: auth port %q", path, line, v)
				}
			case parent == "auth" && t.Name.Local == "disabled":
				s.AuthDisabled = v == "yes"
			case parent == "cluster" && t.Name.Local == "node_name":
				s.NodeName = v
			case t.Name.Local == "remote":
				if remoteSecure && (s.RemotePort != 0 || s.RemoteProtocol != "") {
					remoteDone = true
				} else if !remoteSecure {
					s.RemotePort, s.RemoteProtocol = 0, ""
				}
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	return s, nil
}
