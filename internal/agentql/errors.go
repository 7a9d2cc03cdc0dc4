package agentql

import "strings"

// Wazuh error codes produced by this package.
const (
	CodeSortField   = 1403 // a sort field is not allowed
	CodeQueryFormat = 1407 // q does not follow the grammar (also: limits exceeded)
	CodeFieldExist  = 1408 // q names a field that does not exist
	CodeOperator    = 1409 // q uses an operator that is not valid (for that field)
	CodeTimeframe   = 1411 // a relative time frame is malformed
	CodeDateFilter  = 1412 // a date value is neither a time frame nor a date
	CodeSelectField = 1724 // a select field is not allowed
)

// Limits that keep a hostile q from costing more than a small, bounded
// amount of memory, stack and SQL expression depth.
const (
	MaxQueryLength = 8192 // bytes of q (and of search)
	MaxDepth       = 32   // nesting of parentheses in q
)

// Wazuh's catalogue messages and remediations for the codes above.
const (
	msgSort      = "Not a valid sort field"
	msgFormat    = "Query does not match expected format"
	msgField     = "Field does not exist"
	msgOperator  = "Invalid query operator"
	msgTimeframe = "TimeFrame is not valid"
	msgDate      = "Date filter not valid. Valid formats are YYYY-MM-DD HH:mm:ss, YYYY-MM-DDTHH:mm:ssZ or YYYY-MM-DD"
	msgSelect    = "Not a valid select field"
	remSort      = "Please, use only allowed sort fields"
	remSelect    = "Please, use only allowed select fields"
)

// Error is a query-language error carrying the Wazuh code, message and
// remediation the API answers with (HTTP 400 for every code here).
type Error struct {
	Code        int    // Wazuh error code
	Msg         string // full message: the catalogue message, then ": " and Extra when Extra is set
	Extra       string // the detail Wazuh appends to its catalogue message
	Remediation string // full remediation text; empty when Wazuh gives none
}

// Error returns the full message.
func (e *Error) Error() string { return e.Msg }

func newError(code int, msg, extra, rem string) *Error {
	full := msg
	if extra != "" {
		full += ": " + extra
	}
	return &Error{Code: code, Msg: full, Extra: extra, Remediation: rem}
}

// formatError reports q as not matching the grammar, echoing it like Wazuh
// (shortened when huge, so an error body stays small).
func formatError(q string) *Error {
	const keep = 256
	if len(q) > keep {
		q = strings.ToValidUTF8(q[:keep], "") + "..."
	}
	return newError(CodeQueryFormat, msgFormat, q, "")
}

func limitError(what string) *Error {
	return newError(CodeQueryFormat, msgFormat, what, "")
}

func fieldError(s *Schema, field string) *Error {
	return newError(CodeFieldExist, msgField,
		"Available fields: "+strings.Join(s.Names(), ", ")+". Field: "+field, "")
}

func operatorError(valid, used string) *Error {
	return newError(CodeOperator, msgOperator, valid+". Used operator: "+used, "")
}

func dateError(v string) *Error      { return newError(CodeDateFilter, msgDate, v, "") }
func timeframeError(v string) *Error { return newError(CodeTimeframe, msgTimeframe, v, "") }
