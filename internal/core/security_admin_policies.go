package core

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/muster-project/muster/internal/pyjson"
	"github.com/muster-project/muster/internal/rbac"
)

// Patterns Wazuh checks stored policies against (Python re.match, where
// "$" also matches before one final newline).
var (
	rePolicyAction   = regexp.MustCompile(`^[a-zA-Z_\-]+:[a-zA-Z_\-]+\n?$`)
	rePolicyResource = regexp.MustCompile(`^[a-zA-Z_\-*]+:[\p{L}\p{N}_\-*]+:[\p{L}\p{N}_\-/.*]+\n?$`)
)

// sanitizePolicy lower-cases actions, the type and attribute of every
// resource part (not its value) and the effect, as Wazuh does before
// storing a policy.
func sanitizePolicy(p *pyjson.Value) {
	lowerStrings := func(v *pyjson.Value, f func(string) string) {
		if v == nil || v.Kind != pyjson.Array {
			return
		}
		for _, el := range v.Items {
			if el.Kind == pyjson.String {
				el.Text = f(el.Text)
			}
		}
	}
	actions, _ := p.Get("actions")
	lowerStrings(actions, strings.ToLower)
	resources, _ := p.Get("resources")
	lowerStrings(resources, func(r string) string {
		parts := strings.Split(r, "&")
		for i, part := range parts {
			segs := strings.Split(part, ":")
			for j := 0; j < len(segs)-1; j++ {
				segs[j] = strings.ToLower(segs[j])
			}
			parts[i] = strings.Join(segs, ":")
		}
		return strings.Join(parts, "&")
	})
	if effect, ok := p.Get("effect"); ok && effect.Kind == pyjson.String {
		effect.Text = strings.ToLower(effect.Text)
	}
}

// errPolicyInvalid is Wazuh's 4006 outcome of the storage checks.
var errPolicyInvalid = errors.New("invalid policy")

// preparePolicy sanitises and checks a policy body and returns the text to
// store. The storage checks fail with errPolicyInvalid (failed item 4006).
// A policy that passes them but that Wazuh would refuse when processing a
// token's policies (more than two "&" parts, characters its stricter
// pattern rejects) is refused now with the *Error Wazuh would raise then
// (400, 4500), instead of breaking every request of every holder later.
func preparePolicy(raw json.RawMessage) ([]byte, error) {
	p, err := pyjson.Parse(raw, 0)
	if err != nil || p.Kind != pyjson.Object {
		return nil, errPolicyInvalid
	}
	sanitizePolicy(p)
	if len(p.Keys) != 3 {
		return nil, errPolicyInvalid
	}
	actions, ok1 := p.Get("actions")
	resources, ok2 := p.Get("resources")
	effect, ok3 := p.Get("effect")
	if !ok1 || !ok2 || !ok3 || actions.Kind != pyjson.Array || resources.Kind != pyjson.Array || effect.Kind != pyjson.String {
		return nil, errPolicyInvalid
	}
	pol := rbac.Policy{Effect: effect.Text}
	for _, a := range actions.Items {
		if a.Kind != pyjson.String || !rePolicyAction.MatchString(a.Text) {
			return nil, errPolicyInvalid
		}
		pol.Actions = append(pol.Actions, a.Text)
	}
	for _, r := range resources.Items {
		if r.Kind != pyjson.String {
			return nil, errPolicyInvalid
		}
		for _, part := range strings.Split(r.Text, "&") {
			if !rePolicyResource.MatchString(part) {
				return nil, errPolicyInvalid
			}
		}
		pol.Resources = append(pol.Resources, r.Text)
	}
	if _, err := rbac.Compile([]rbac.Role{{Policies: []rbac.Policy{pol}}}, rbac.White); err != nil {
		return nil, resourceError(err)
	}
	return p.Dumps(), nil
}

// resourceError is the 4500 answer for a policy resource the RBAC engine
// refuses, with Wazuh's remediation suffix for too long combinations.
func resourceError(err error) *Error {
	e := E(4500)
	var re *rbac.ResourceError
	if errors.As(err, &re) && re.RemediationSuffix() != "" {
		e.Remediation += ": " + re.RemediationSuffix()
	}
	e.Err = err
	return e
}

// CreatePolicy adds a policy (POST /security/policies).
func (s *Security) CreatePolicy(ctx context.Context, name string, body json.RawMessage) (*Bulk, error) {
	b := NewBulk("Policy was successfully created", "Policy was not created", "Policy was not created")
	text, err := preparePolicy(body)
	if errors.Is(err, errPolicyInvalid) {
		b.Fail(E(4006), name)
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	err = s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		for _, p := range snap.data.Policies {
			if p.Name == name || string(p.Body) == string(text) {
				b.Fail(E(4009), name)
				return nil
			}
		}
		id, err := tx.InsertPolicy(Policy{Name: name, Body: text, CreatedAt: s.stamp()})
		if err != nil {
			return err
		}
		b.Add(PolicyInfo{ID: id, Name: name, Body: text, Roles: []int{}})
		return nil
	})
	return b, err
}

// UpdatePolicy renames a policy and/or replaces its body (PUT
// /security/policies/{policy_id}); every role holding it is revoked.
func (s *Security) UpdatePolicy(ctx context.Context, id int, name *string, body json.RawMessage) (*Bulk, error) {
	if name == nil && body == nil {
		return nil, E(4001)
	}
	b := NewBulk("Policy was successfully updated", "Policy was not updated", "Policy was not updated")
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		cur, ok := snap.policiesByID[id]
		switch {
		case !ok:
			b.Fail(E(4007), id)
			return nil
		case id <= MaxReservedID:
			b.Fail(E(4008), id)
			return nil
		}
		next := *cur
		if name != nil {
			next.Name = *name
		}
		if body != nil {
			text, err := preparePolicy(body)
			if errors.Is(err, errPolicyInvalid) {
				b.Fail(E(4006), id)
				return nil
			}
			if err != nil {
				return err
			}
			next.Body = text
		}
		for _, p := range snap.data.Policies {
			if p.ID != id && (p.Name == next.Name || string(p.Body) == string(next.Body)) {
				b.Fail(E(4013), id)
				return nil
			}
		}
		if err := tx.UpdatePolicy(next); err != nil {
			return err
		}
		if err := s.revoker(tx).roles(snap.policyRoles[id]...); err != nil {
			return err
		}
		b.Add(PolicyInfo{ID: id, Name: next.Name, Body: next.Body, Roles: ascending(snap.policyRoles[id])})
		return nil
	})
	return b, err
}

// DeletePolicies deletes policies (DELETE /security/policies); the roles
// that held them are revoked.
func (s *Security) DeletePolicies(ctx context.Context, sel Selection) (*Bulk, error) {
	b := NewBulk("All specified policies were deleted", "Some policies were not deleted", "No policy was deleted")
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		f := newFailer(b, sel, 4007, 4008)
		rv := s.revoker(tx)
		picked := sel.pick(ids(snap.data.Policies, func(x Policy) int { return x.ID }))
		deleted, err := deleteEach(f, picked, snap.policiesByID, 4007, func(id int, p *Policy) (PolicyInfo, error) {
			for _, role := range snap.policyRoles[id] {
				if err := tx.DeleteLink(RolePoliciesTable, role, id); err != nil {
					return PolicyInfo{}, err
				}
			}
			if err := tx.DeletePolicy(id); err != nil {
				return PolicyInfo{}, err
			}
			return snap.policyInfo(p), rv.roles(snap.policyRoles[id]...)
		})
		if err != nil {
			return err
		}
		sortByID(deleted, func(p PolicyInfo) int { return p.ID })
		for _, p := range deleted {
			b.Add(p)
		}
		return nil
	})
	return b, err
}
