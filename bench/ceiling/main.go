// Command ceiling is the reference server of the API benchmarks: the least a
// Go HTTPS server can do per request on this machine. It serves a fixed JSON
// body the size of GET /security/users/me's answer, with muster's security
// headers, over TLS with the same kind of certificate muster makes on first
// start (ECDSA P-256, self-signed). bench/api.sh measures it with the same
// wrk command as muster; muster's figures are read as a share of this one.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// headers are the security headers muster (like Wazuh) puts on every answer.
var headers = [][2]string{
	{"Server", "Wazuh"},
	{"Strict-Transport-Security", "max-age=63072000; includeSubdomains"},
	{"X-Frame-Options", "deny"},
	{"X-XSS-Protection", "0"},
	{"X-Content-Type-Options", "nosniff"},
	{"Content-Security-Policy", "none"},
	{"Referrer-Policy", "no-referrer, strict-origin-when-cross-origin"},
	{"Cache-Control", "no-store"},
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	size := flag.Int("body-size", 4168, "size in bytes of the JSON body (GET /security/users/me answers about 4.2 kB for wazuh)")
	flag.Parse()

	cert, err := selfSigned()
	if err != nil {
		log.Fatal(err)
	}
	body := fixedBody(*size)
	clen := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		for _, kv := range headers {
			hd.Set(kv[0], kv[1])
		}
		hd.Set("Content-Type", "application/json")
		hd.Set("Content-Length", clen)
		w.Write(body)
	})
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	tl := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"}})
	fmt.Fprintf(os.Stderr, "ceiling listening on https://%s\n", ln.Addr())
	go func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt, syscall.SIGTERM)
		<-c
		hs.Close()
	}()
	if err := hs.Serve(tl); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// fixedBody is a Wazuh-style envelope padded to size bytes.
func fixedBody(size int) []byte {
	head := `{"data": {"affected_items": [{"id": 1, "username": "wazuh", "allow_run_as": true, "roles": [{"id": 1, "name": "administrator", "pad": "`
	tail := `"}]}], "total_affected_items": 1, "total_failed_items": 0, "failed_items": []}, "message": "Current user information was returned", "error": 0}`
	n := max(size-len(head)-len(tail), 0)
	return []byte(head + strings.Repeat("x", n) + tail)
}

// selfSigned makes an in-memory certificate like muster's first-start one.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"muster"}, CommonName: "ceiling"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
