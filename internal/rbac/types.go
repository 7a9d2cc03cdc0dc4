package rbac

import (
	"errors"
	"fmt"
	"strconv"
)

// Mode is the RBAC mode carried by a token: white (default deny) or black (default allow).
type Mode string

// The two RBAC modes of Wazuh.
const (
	White Mode = "white"
	Black Mode = "black"
)

// EffectAllow is the only effect that grants; any other effect string behaves as a deny, as in Wazuh.
const EffectAllow = "allow"

// Policy is one stored policy: its actions, resources and effect, exactly as stored.
type Policy struct {
	ID        int
	Name      string
	Actions   []string
	Resources []string
	Effect    string
}

// Role is one role of a token with its policies in role-policy position order.
type Role struct {
	ID       int
	Name     string
	Policies []Policy
}

// Wazuh error codes produced by this package; the caller's error catalogue owns titles and remediations.
const (
	CodePermissionDenied  = 4000
	CodeInvalidResources  = 4500
	CodeInvalidEndpoint   = 4020
	CodeInvalidResourceID = 4019
)

// RemediationCombinationSuffix is appended (after ": ") to the 4500 remediation when a resource combines more
// than two resources.
const RemediationCombinationSuffix = "The maximum length for permission combinations is two"

// ResourceError reports a stored policy resource that the processing of policies rejects (Wazuh error 4500,
// HTTP 400 on every request of every holder of the role).
type ResourceError struct {
	Resource string // the offending resource, as stored
	Policy   int    // id of the policy holding it
	// TooManyParts is set when the resource combines more than two resources; the remediation then ends
	// with RemediationCombinationSuffix.
	TooManyParts bool
}

// Error returns Wazuh's 4500 message.
func (e *ResourceError) Error() string { return "The specified resources are invalid" }

// Code returns the Wazuh error code, 4500.
func (e *ResourceError) Code() int { return CodeInvalidResources }

// RemediationSuffix returns the text Wazuh appends to the 4500 remediation, or "" when there is none.
func (e *ResourceError) RemediationSuffix() string {
	if e.TooManyParts {
		return RemediationCombinationSuffix
	}
	return ""
}

// ErrMode is returned by Compile for a mode other than white or black.
var ErrMode = errors.New("rbac: mode must be white or black")

// EvalError reports a state in which Wazuh fails with an unhandled exception (HTTP 500, error 1000): a
// processed resource of the checked action that cannot be split into type, attribute and value, a regular
// expression applied to a non-string value, or an unorderable list in an authorization context.
type EvalError struct{ Reason string }

// Error describes the failure.
func (e *EvalError) Error() string { return "rbac: evaluation failed: " + e.Reason }

// PermissionDeniedMessage returns the 4000 message for a resource type ("Permission denied: Resource type:
// user:id"), used both as the 403 detail and as the failed-item message.
func PermissionDeniedMessage(resourceType string) string {
	return "Permission denied: Resource type: " + resourceType
}

// IntegerIDs reports whether Wazuh renders denied ids of this resource type as integers in failed items
// (user:id, role:id, rule:id and policy:id; only ids made of digits are converted).
func IntegerIDs(resourceType string) bool {
	switch resourceType {
	case "user:id", "role:id", "rule:id", "policy:id":
		return true
	}
	return false
}

// DeniedID converts a denied id the way Wazuh does for failed items: an int for digit-only ids of integer
// resource types, the string otherwise.
func DeniedID(resourceType, id string) any {
	if IntegerIDs(resourceType) && isDigits(id) {
		if n, err := strconv.Atoi(id); err == nil {
			return n
		}
	}
	return id
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func errorf(format string, args ...any) error { return fmt.Errorf("rbac: "+format, args...) }
