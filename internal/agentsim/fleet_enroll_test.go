package agentsim

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

// enrollListener is a TLS enrollment endpoint that records each request
// line and answers with a new key, as authd does.
func enrollListener(t *testing.T) (addr string, requests func() []string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "manager"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der},
		PrivateKey: k}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var got []string
	go func() {
		for id := 100; ; id++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			req, err := agentproto.ParseEnrollRequest([]byte(line), agentproto.EnrollOptions{})
			mu.Lock()
			got = append(got, strings.TrimSuffix(line, "\n"))
			mu.Unlock()
			if err == nil {
				e := agentproto.KeyEntry{ID: strconv.Itoa(id), Name: req.Name, IP: agentproto.AnyIP,
					Key: strings.Repeat("ab", 32)}
				c.Write([]byte("OSSEC K:'" + e.String() + "'\n\n"))
			}
			c.Close()
		}
	}()
	return ln.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(got)
		slices.Sort(out)
		return out
	}
}

// TestFleetEnrolls: agents without a key enroll with their own name,
// groups and version field (none before 4.6, as a 3.13 agent), and their
// keys are appended to the keys file; agents found there do not enroll.
func TestFleetEnrolls(t *testing.T) {
	addr, requests := enrollListener(t)
	host, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	keys := filepath.Join(dir, "sim.keys")
	if err := os.WriteFile(keys, []byte("007 known-01 any "+key1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := ParseFleet(filepath.Join(dir, "fleet.yaml"), []byte(`agents:
  - {name: known-01}
  - {name: new-414, version: 4.14.7, groups: [web, db]}
  - {name: new-313, version: 3.13.2}
  - {name: new-def}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	_, err = Run(context.Background(), Config{Fleet: f, KeysFile: keys, Manager: host, EnrollPort: p, Port: 1,
		Version: "v4.9.0", Groups: []string{"default"}, EnrollOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"OSSEC A:'new-313' G:'default'", "OSSEC A:'new-414' V:'v4.14.7' G:'web,db'",
		"OSSEC A:'new-def' V:'v4.9.0' G:'default'"}
	if got := requests(); !slices.Equal(got, want) {
		t.Errorf("enrollment requests\n got  %q\n want %q", got, want)
	}
	entries, err := ReadKeysFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	slices.Sort(names[1:])
	if want := []string{"known-01", "new-313", "new-414", "new-def"}; !slices.Equal(names, want) {
		t.Errorf("keys file names %q, want %q", names, want)
	}
}
