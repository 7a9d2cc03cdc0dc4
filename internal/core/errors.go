package core

import (
	"errors"
	"fmt"
)

// ErrNotFound is wrapped by Store methods when a row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is wrapped by Store methods when a unique constraint is hit.
var ErrConflict = errors.New("conflict")

// Error is an error with a Wazuh error code. The HTTP layer renders it as
// Wazuh's problem+json body; bulk operations render it as a failed item.
type Error struct {
	Code        int    // Wazuh code; 0 for request-validation errors, which carry no code
	Status      int    // HTTP status; 0 means the catalogue's
	Title       string // overrides the title derived from the status
	Detail      string // the detail sent to the client
	Remediation string
	// Local marks errors Wazuh raises outside its framework (controller or
	// middleware): their bodies have no dapi_errors.
	Local bool
	// Node overrides the node name under dapi_errors (Wazuh says
	// "unknown-node" when the caller may not read the cluster).
	Node string
	Err  error // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Code == 0 {
		return e.Detail
	}
	s := fmt.Sprintf("error %d: %s", e.Code, e.Detail)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus is the status the error is answered with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	if c, ok := catalogue[e.Code]; ok {
		return c.status
	}
	return 500
}

// E returns the catalogue error for code.
func E(code int) *Error {
	c, ok := catalogue[code]
	if !ok {
		c = catalogue[1000]
		code = 1000
	}
	return &Error{Code: code, Detail: c.message, Remediation: c.remediation}
}

// Ef returns the catalogue error for code with extra text appended to its
// message, as Wazuh formats "<message>: <extra>".
func Ef(code int, format string, args ...any) *Error {
	e := E(code)
	e.Detail += ": " + fmt.Sprintf(format, args...)
	return e
}

// BadRequest is a request-validation error: 400 with only title and detail.
func BadRequest(detail string) *Error {
	return &Error{Status: 400, Detail: detail, Local: true}
}

// Problem is an error answered with a status and detail and no Wazuh code.
func Problem(status int, title, detail string) *Error {
	return &Error{Status: status, Title: title, Detail: detail, Local: true}
}

// Internal wraps an unexpected error: a 500 with a generic body, the cause
// kept for the log.
func Internal(err error) *Error {
	e := E(1000)
	e.Err = err
	return e
}

// AsError converts any error to *Error; unknown errors become internal ones.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// WithRemediation returns a copy of e with extra text appended to its remediation.
func (e *Error) WithRemediation(extra string) *Error {
	c := *e
	c.Remediation += extra
	return &c
}

// Msg returns the catalogue message of code.
func Msg(code int) string { return catalogue[code].message }
