package rbac

import (
	"fmt"
	"testing"
)

// benchRoles builds 200 roles of 10 policies each (2,000 policies) over the real action catalogue, mixing
// wildcards, specific ids, groups and denies.
func benchRoles() []Role {
	cat := Actions()
	roles := make([]Role, 200)
	for r := range roles {
		roles[r].ID = 100 + r
		for k := 0; k < 10; k++ {
			n := r*10 + k
			a := cat[n%len(cat)]
			typ := a.Resources[0]
			res := []string{typ + ":*"}
			switch {
			case typ == "*:*":
				res = []string{"*:*:*"}
			case n%3 == 0:
				res = []string{fmt.Sprintf("%s:%03d", typ, n%500), fmt.Sprintf("%s:%03d", typ, (n+7)%500)}
			case n%7 == 0 && typ == "agent:id":
				res = []string{fmt.Sprintf("agent:group:g%d", n%20)}
			}
			effect := "allow"
			if n%4 == 0 {
				effect = "deny"
			}
			roles[r].Policies = append(roles[r].Policies, Policy{ID: 100 + n, Actions: []string{a.Name, cat[(n+1)%len(cat)].Name}, Resources: res, Effect: effect})
		}
	}
	return roles
}

func BenchmarkCompile(b *testing.B) {
	roles := benchRoles()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(roles, White); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	p, err := Compile(benchRoles(), White)
	if err != nil {
		b.Fatal(err)
	}
	explicit := map[string][]string{"agents_list": {"001", "007", "123", "404"}}
	groups := func(id string) []string { return []string{"g" + id[len(id)-1:]} }
	cases := []struct {
		name string
		c    Check
		ids  map[string][]string
	}{
		{"resourceless", Need("security:revoke", "*:*:*"), nil},
		{"list", Need("agent:read", "agent:id:{agents_list}"), nil},
		{"explicit4", Need("agent:read", "agent:id:{agents_list}"), explicit},
		{"two_templates", Need("security:update", "user:id:{user_id}", "role:id:{role_ids}"), map[string][]string{"user_id": {"100"}, "role_ids": {"1", "2", "3"}}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Decide(tc.c, tc.ids, groups); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("can_resourceless", func(b *testing.B) {
		for b.Loop() {
			_ = p.Can("security:revoke", "*:*:*")
		}
	})
}
