package rbac_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/muster-project/muster/internal/rbac"
)

var getUsers = rbac.Require(rbac.Need("security:read", "user:id:{user_ids}"))

func Example() {
	perms, _ := rbac.Compile([]rbac.Role{{ID: 100, Policies: []rbac.Policy{
		{Actions: []string{"security:read"}, Resources: []string{"user:id:*"}, Effect: "allow"},
		{Actions: []string{"security:read"}, Resources: []string{"user:id:2"}, Effect: "deny"},
	}}}, rbac.White)
	check := getUsers.Checks[0]

	// GET /security/users: no ids, the store applies the filter silently.
	d, _ := perms.Decide(check, nil, nil)
	f := d.Target("user_ids").Filter
	fmt.Println(f.Allows("1", nil), f.Allows("2", nil))

	// GET /security/users?user_ids=1,2: id 2 becomes a 4000 failed item.
	d, _ = perms.Decide(check, map[string][]string{"user_ids": {"1", "2"}}, nil)
	t := d.Target("user_ids")
	fmt.Println(t.Allowed, t.Denied, rbac.PermissionDeniedMessage(t.Type))

	// GET /security/users?user_ids=2: every id denied, the call is a 403.
	d, _ = perms.Decide(check, map[string][]string{"user_ids": {"2"}}, nil)
	fmt.Println(d.Forbidden, rbac.PermissionDeniedMessage(d.DeniedType))
	// Output:
	// true false
	// [1] [2] Permission denied: Resource type: user:id
	// true Permission denied: Resource type: user:id
}

func TestConcurrentUse(t *testing.T) {
	perms, err := rbac.Compile([]rbac.Role{{Policies: []rbac.Policy{
		{Actions: []string{"agent:read", "security:revoke"}, Resources: []string{"*:*:*", "agent:group:web"}, Effect: "allow"},
	}}}, rbac.White)
	if err != nil {
		t.Fatal(err)
	}
	check := rbac.Need("agent:read", "agent:id:{agents_list}")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				d, err := perms.Decide(check, map[string][]string{"agents_list": {"001"}}, func(string) []string { return []string{"web"} })
				if err != nil || d.Forbidden {
					t.Errorf("%+v %v", d, err)
					return
				}
				pp := perms.Processed()
				pp.Actions[0].Resources[0].Effect = "deny" // a copy: must not leak into perms
				if !perms.Can("security:revoke", "*:*:*") {
					t.Error("revoke")
					return
				}
			}
		}()
	}
	wg.Wait()
	if perms.Processed().Actions[0].Resources[0].Effect != "allow" {
		t.Error("Processed exposes internal state")
	}
}
