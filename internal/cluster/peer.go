package cluster

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a node-to-node call. The request is the API request a client
// would send (with the caller's token, which the peer checks as usual),
// signed with the cluster key over its method, URI, token, body, sender,
// addressee and time; the answer is signed over the request's signature,
// its status and body. The peer's TLS certificate is pinned to the digest
// it registered, so a token is never handed to another host.
const (
	HeaderFrom      = "X-Muster-Cluster-From"
	HeaderTo        = "X-Muster-Cluster-To"
	HeaderTime      = "X-Muster-Cluster-Time"
	HeaderSignature = "X-Muster-Cluster-Signature"
	HeaderReply     = "X-Muster-Cluster-Reply"
)

// MaxSkew is how far a signed call's time may be from the receiver's clock.
const MaxSkew = 30 * time.Second

// maxReply bounds a peer's answer read into memory.
const maxReply = 64 << 20

// ErrUnreachable wraps the failures of a call to a live node.
var ErrUnreachable = errors.New("cluster: node unreachable")

// Reply is a peer's answer.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (n *Node) mac(parts ...string) string {
	m := hmac.New(sha256.New, n.signingKey())
	m.Write([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(m.Sum(nil))
}

func (n *Node) requestMAC(method, uri, auth, from, to, ts string, body []byte) string {
	return n.mac("muster-cluster-request-v1", method, uri, digest([]byte(auth)), from, to, ts, digest(body))
}

func (n *Node) replyMAC(reqSig string, status int, body []byte) string {
	return n.mac("muster-cluster-reply-v1", reqSig, strconv.Itoa(status), digest(body))
}

// Call sends a signed API request to a live node and checks its signed
// answer. uri is the path and query ("/cluster/node02/logs?limit=5");
// header carries what the peer needs of the original request
// (Authorization). A network failure, or an answer that is not signed by
// a holder of the cluster key, is ErrUnreachable.
func (n *Node) Call(ctx context.Context, to Member, method, uri string, header http.Header, body []byte) (*Reply, error) {
	if n.signingKey() == nil {
		return nil, fmt.Errorf("%w: the cluster key is not loaded yet", ErrUnreachable)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(to.Address, "/")+uri, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	ts := strconv.FormatInt(n.o.Now().Unix(), 10)
	sig := n.requestMAC(method, uri, req.Header.Get("Authorization"), n.o.Name, to.Name, ts, body)
	req.Header.Set(HeaderFrom, n.o.Name)
	req.Header.Set(HeaderTo, to.Name)
	req.Header.Set(HeaderTime, ts)
	req.Header.Set(HeaderSignature, sig)
	resp, err := n.client(to.CertSHA256).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreachable, to.Name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil || len(b) > maxReply {
		return nil, fmt.Errorf("%w: %s: reading the answer: %v", ErrUnreachable, to.Name, err)
	}
	if !hmac.Equal([]byte(resp.Header.Get(HeaderReply)), []byte(n.replyMAC(sig, resp.StatusCode, b))) {
		return nil, fmt.Errorf("%w: %s answered without a valid cluster signature", ErrUnreachable, to.Name)
	}
	return &Reply{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// Verify reports whether r is a call signed by another node of the cluster
// and addressed to this one, sent within MaxSkew of this node's clock.
// body is the request's body as read.
func (n *Node) Verify(r *http.Request, body []byte) bool {
	sig := r.Header.Get(HeaderSignature)
	if sig == "" || n.signingKey() == nil || r.Header.Get(HeaderTo) != n.o.Name {
		return false
	}
	ts := r.Header.Get(HeaderTime)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if d := n.o.Now().Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return false
	}
	want := n.requestMAC(r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get(HeaderFrom),
		n.o.Name, ts, body)
	return hmac.Equal([]byte(sig), []byte(want))
}

// SignReply is the HeaderReply value of an answer to a verified call.
func (n *Node) SignReply(r *http.Request, status int, body []byte) string {
	return n.replyMAC(r.Header.Get(HeaderSignature), status, body)
}

// client returns the HTTP client that reaches a peer whose certificate
// digest is pin; an empty pin accepts any certificate (plain HTTP peers,
// or a node that registered none), and the reply signature still
// authenticates the peer.
func (n *Node) client(pin string) *http.Client {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.clients == nil {
		n.clients = map[string]*http.Client{}
	}
	if c, ok := n.clients[pin]; ok {
		return c
	}
	tlsCfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12} // verified by the pin below
	if pin != "" {
		tlsCfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || digest(raw[0]) != pin {
				return errors.New("the node's certificate is not the one it registered")
			}
			return nil
		}
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: 4,
		IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 60 * time.Second}}
	if len(n.clients) > 64 {
		clear(n.clients)
	}
	n.clients[pin] = c
	return c
}

// CertDigest is the pin of a TLS certificate: the hex SHA-256 of its leaf.
func CertDigest(c *tls.Certificate) string {
	if c == nil || len(c.Certificate) == 0 {
		return ""
	}
	return digest(c.Certificate[0])
}
