package apitest

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Contract is an http.RoundTripper that checks each exchange against Wazuh's
// OpenAPI document: a request the document accepts must get an answer the
// document describes; a request it rejects must get a 4xx.
type Contract struct {
	t      testing.TB
	base   http.RoundTripper
	router routers.Router
	mu     sync.Mutex
	seen   map[string]bool // "METHOD /path/template" of valid exchanges
}

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// SpecPath finds ../shared/spec/wazuh-api-v4.14.7.yaml beside the checkout.
func SpecPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "spec", "wazuh-api-v4.14.7.yaml"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func loadRouter() (routers.Router, error) {
	specOnce.Do(func() {
		path, err := SpecPath()
		if err != nil {
			specErr = err
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(path)
		if err != nil {
			specErr = fmt.Errorf("load %s: %w", path, err)
			return
		}
		doc.Servers = nil // match on path alone, whatever host the test server has
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	return specRouter, specErr
}

// NewContract wraps base with the contract checks.
func NewContract(t testing.TB, base http.RoundTripper) *Contract {
	t.Helper()
	r, err := loadRouter()
	if err != nil {
		t.Fatalf("OpenAPI document: %v", err)
	}
	return &Contract{t: t, base: base, router: r, seen: map[string]bool{}}
}

// Seen lists the operations that were exercised with valid requests.
func (c *Contract) Seen() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]bool, len(c.seen))
	for k := range c.seen {
		out[k] = true
	}
	return out
}

// RoundTrip implements http.RoundTripper.
func (c *Contract) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	route, pathParams, findErr := c.router.FindRoute(req)
	var input *openapi3filter.RequestValidationInput
	var reqErr error
	if findErr == nil {
		check := req.Clone(context.Background())
		check.Body = io.NopCloser(bytes.NewReader(reqBody))
		input = &openapi3filter.RequestValidationInput{Request: check, PathParams: pathParams, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		reqErr = openapi3filter.ValidateRequest(context.Background(), input)
		// The document's int32 and int64 formats are not enforced by
		// Wazuh, whose integers have no size: an offset past int64 is a
		// request it accepts.
		if reqErr != nil && strings.Contains(reqErr.Error(), "value out of range") {
			reqErr = nil
		}
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	what := req.Method + " " + req.URL.Path
	switch {
	case findErr != nil:
		// Paths outside the document: only the router's and the unsupported answers.
		if resp.StatusCode != 404 && resp.StatusCode != 405 && resp.StatusCode != 501 && resp.StatusCode != 401 {
			c.t.Errorf("contract: %s is not in the OpenAPI document but got %d", what, resp.StatusCode)
		}
	case reqErr != nil:
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			c.t.Errorf("contract: %s is invalid per the document (%v) but got %d", what, firstLine(reqErr), resp.StatusCode)
		}
	default:
		c.mu.Lock()
		c.seen[req.Method+" "+route.Path] = true
		c.mu.Unlock()
		if err := c.checkResponse(input, resp, body); err != nil {
			c.t.Errorf("contract: %s → %d: %v\nbody: %.400s", what, resp.StatusCode, err, body)
		}
	}
	return resp, nil
}

func (c *Contract) checkResponse(input *openapi3filter.RequestValidationInput, resp *http.Response, body []byte) error {
	header := resp.Header.Clone()
	// Wazuh's document declares its error bodies as application/json; the
	// real API sends them as problem+json.
	if strings.HasPrefix(header.Get("Content-Type"), "application/problem+json") {
		header.Set("Content-Type", "application/json")
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: false}
	// The document gives its XML answers (raw configurations) the schema of
	// the JSON ones, which no XML text can match: they are checked for
	// being well-formed XML, and for a declared media type.
	if strings.HasPrefix(header.Get("Content-Type"), "application/xml") {
		if err := wellFormedXML(body); err != nil {
			return err
		}
		opts.ExcludeResponseBody = true
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: input, Status: resp.StatusCode,
		Header: header, Options: opts}
	out.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), out)
}

func wellFormedXML(b []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("XML body: %w", err)
		}
	}
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
