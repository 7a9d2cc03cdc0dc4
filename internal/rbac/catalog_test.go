package rbac

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

const specPath = "../../../shared/spec/wazuh-api-v4.14.7.yaml"

// mapping returns the value node of key in a YAML mapping node.
func mapping(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func refName(n *yaml.Node) string {
	ref := mapping(n, "$ref").Value
	return ref[strings.LastIndexByte(ref, '/')+1:]
}

func seqValues(n *yaml.Node, f func(*yaml.Node) string) []string {
	var out []string
	for _, c := range n.Content {
		out = append(out, f(c))
	}
	return out
}

// TestCatalogMatchesSpec re-reads the OpenAPI document and checks the generated tables against it.
func TestCatalogMatchesSpec(t *testing.T) {
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Skipf("spec not available: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	cat := mapping(root, "x-rbac-catalog")
	var wantRes []ResourceType
	res := mapping(cat, "resources")
	for i := 0; i < len(res.Content); i += 2 {
		wantRes = append(wantRes, ResourceType{Name: res.Content[i].Value, Description: mapping(res.Content[i+1], "description").Value})
	}
	if diff := cmp.Diff(wantRes, ResourceTypes()); diff != "" {
		t.Errorf("resources (-spec +go):\n%s", diff)
	}
	var wantActs []Action
	an := mapping(cat, "actions")
	scalar := func(n *yaml.Node) string { return n.Value }
	for i := 0; i < len(an.Content); i += 2 {
		a := an.Content[i+1]
		ex := mapping(a, "example")
		wantActs = append(wantActs, Action{Name: an.Content[i].Value, Description: mapping(a, "description").Value,
			Resources: seqValues(mapping(a, "resources"), refName),
			Example: Example{Actions: seqValues(mapping(ex, "actions"), scalar), Resources: seqValues(mapping(ex, "resources"), scalar),
				Effect: mapping(ex, "effect").Value}})
	}
	if diff := cmp.Diff(wantActs, Actions()); diff != "" {
		t.Errorf("actions (-spec +go):\n%s", diff)
	}
	var wantEps []EndpointActions
	paths := mapping(root, "paths")
	for i := 0; i < len(paths.Content); i += 2 {
		ops := paths.Content[i+1]
		for j := 0; j < len(ops.Content); j += 2 {
			e := EndpointActions{Endpoint: strings.ToUpper(ops.Content[j].Value) + " " + paths.Content[i].Value}
			if x := mapping(ops.Content[j+1], "x-rbac-actions"); x != nil {
				e.Actions = seqValues(x, refName)
			}
			wantEps = append(wantEps, e)
		}
	}
	if diff := cmp.Diff(wantEps, Endpoints()); diff != "" {
		t.Errorf("endpoints (-spec +go):\n%s", diff)
	}
}

func TestSecurityActionsView(t *testing.T) {
	v, err := ActionsFor("PUT /active-response")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"active-response:command": {"description": "Execute active response commands in the agents", ` +
		`"resources": ["agent:id", "agent:group"], "example": {"actions": ["active-response:command"], ` +
		`"resources": ["agent:id:001", "agent:group:atlantic"], "effect": "allow"}, "related_endpoints": ["PUT /active-response"]}}`
	if got := string(v.PythonJSON()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if v, err = ActionsFor("POST /security/user/authenticate"); err != nil || string(v.PythonJSON()) != "{}" {
		t.Errorf("no rbac: %s %v", v.PythonJSON(), err)
	}
	_, err = ActionsFor("GET /nope")
	var ce *CatalogError
	if !errors.As(err, &ce) || ce.Code != 4020 || ce.Error() != "Invalid endpoint specified" ||
		!strings.HasPrefix(ce.RemediationSuffix, "['GET /', 'PUT /active-response', 'DELETE /agents', ") {
		t.Errorf("invalid endpoint: %+v", err)
	}
	all, err := ActionsFor("")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]ActionView{}
	for _, a := range all {
		byName[a.Name] = a
	}
	if all[0].Name != "active-response:command" || all[1].Name != "agent:delete" {
		t.Errorf("order: %s, %s", all[0].Name, all[1].Name)
	}
	wantRevoke := []string{"PUT /security/user/revoke"}
	if !cmp.Equal(byName["security:revoke"].RelatedEndpoints, wantRevoke) {
		t.Errorf("revoke: %v", byName["security:revoke"].RelatedEndpoints)
	}
	if got := byName["security:read_config"].RelatedEndpoints; !cmp.Equal(got, []string{"GET /security/config"}) {
		t.Errorf("read_config: %v", got)
	}
	if got := byName["security:update_config"].RelatedEndpoints; !cmp.Equal(got, []string{"PUT /security/config", "DELETE /security/config"}) {
		t.Errorf("update_config: %v", got)
	}
	if len(all) > len(Actions()) {
		t.Errorf("%d actions listed, catalogue has %d", len(all), len(Actions()))
	}
}

func TestSecurityResourcesView(t *testing.T) {
	v, err := ResourcesFor("agent:id")
	if err != nil || string(v.PythonJSON()) != `{"agent:id": {"description": "Reference agents via agent ID (i.e. agent:id:001)"}}` {
		t.Errorf("%s %v", v.PythonJSON(), err)
	}
	all, _ := ResourcesFor("")
	if len(all) != 12 || all[0].Name != "*:*" || all[11].Name != "user:id" {
		t.Errorf("%+v", all)
	}
	compact, _ := all.MarshalJSON()
	if !strings.HasPrefix(string(compact), `{"*:*":{"description":"Resource applied in functions acting on resources that do not yet exist`) {
		t.Errorf("%s", compact)
	}
	var ce *CatalogError
	if _, err := ResourcesFor("rule:idx"); !errors.As(err, &ce) || ce.Code != 4019 {
		t.Errorf("%v", err)
	}
}

func TestCatalogIsCopied(t *testing.T) {
	a := Actions()
	a[0].Resources[0] = "changed"
	if Actions()[0].Resources[0] == "changed" {
		t.Error("Actions exposes internal state")
	}
}
