package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
)

func secRule(id int, name, body, roles string) string {
	return fmt.Sprintf(`{"id": %d, "name": "%s", "rule": %s, "roles": [%s]}`, id, name, body, roles)
}

func TestRulesCRUD(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	tok := secAdminToken(t, e)
	h, jh := bearer(tok), secJSONAuth(tok)
	post := func(body string) exchange { return do(t, e, "POST", "/security/rules", jh, body) }
	// Any object is stored, as Python's json.dumps writes it.
	expectBody(t, post(`{"name": "New_Rule", "rule": {"MATCH":{"definition":"normalRule","n":[1.50,2E3,-0,1e16,0.00001]}}}`), 200,
		secItems(secRule(100, "New_Rule", `{"MATCH": {"definition": "normalRule", "n": [1.5, 2000.0, 0, 1e+16, 1e-05]}}`, ""), 1, nil,
			"Security rule was successfully created"))
	expectBody(t, post(`{"name": "unicode", "rule": {"FIND": {"name": "Ñandú 🐦"}}}`), 200,
		secItems(secRule(101, "unicode", `{"FIND": {"name": "\u00d1and\u00fa \ud83d\udc26"}}`, ""), 1, nil,
			"Security rule was successfully created"))
	expectBody(t, post(`{"name": "New_Rule", "rule": {"x": 1}}`), 200,
		secItems("", 0, []string{secFailed(4005, `"New_Rule"`)}, "Security rule was not created"))
	expectBody(t, post(`{"name": "copy", "rule": {"MATCH": {"definition": "normalRule", "n": [1.5, 2000.0, 0, 1e16, 1e-5]}}}`), 200,
		secItems("", 0, []string{secFailed(4005, `"copy"`)}, "Security rule was not created"))
	for body, want := range map[string]string{
		`{"name": "x", "rule": "FIND"}`:         "'FIND' is not of type 'object' - 'rule'",
		`{"name": "x", "rule": null}`:           "None is not of type 'object' - 'rule'",
		`{"rule": {}}`:                          "'name' is a required property",
		`{"name": "x"}`:                         "'rule' is a required property",
		`{"name": "x", "rule": {}, "roles": 1}`: "Invalid field found {'roles'}",
	} {
		expectBody(t, post(body), 400, secBadRequest(want))
	}

	put := func(id, body string) exchange { return do(t, e, "PUT", "/security/rules/"+id, jh, body) }
	notUpdated := func(code int, id string) string {
		return secItems("", 0, []string{secFailed(code, id)}, "Security rule was not updated")
	}
	expectBody(t, put("100", `{}`), 400, secProblem(400, 4001, "node01"))
	expectBody(t, put("2", `{"name": "y"}`), 200, notUpdated(4008, "2"))
	expectBody(t, put("999", `{"name": "y"}`), 200, notUpdated(4022, "999"))
	expectBody(t, put("100", `{"name": "unicode"}`), 200, notUpdated(4005, "100"))
	expectBody(t, put("100", `{"rule": {"FIND": {"name": "Ñandú 🐦"}}}`), 200, notUpdated(4005, "100"))
	expectBody(t, put("100", `{"rule": {"OR": [{"MATCH": {"a": "b"}}]}}`), 200,
		secItems(secRule(100, "New_Rule", `{"OR": [{"MATCH": {"a": "b"}}]}`, ""), 1, nil, "Security rule was successfully updated"))
	expectBody(t, put("x", `{"name": "y"}`), 400,
		secBadRequest("'x' is not a 'numbers'. Failed validating 'format' in schema: {'description': 'Security rule ID', 'format': 'numbers', 'type': 'string'}. On instance: 'x'"))

	expectBody(t, do(t, e, "GET", "/security/rules?rule_ids=1,999", h, ""), 200,
		secItems(secRule(1, "wui_elastic_admin", `{"FIND": {"username": "elastic"}}`, "1"), 1,
			[]string{secFailed(4022, `"999"`)}, "Some security rules were not returned"))
	expectBody(t, do(t, e, "DELETE", "/security/rules?rule_ids=101,1,999", h, ""), 200,
		secItems(secRule(101, "unicode", `{"FIND": {"name": "\u00d1and\u00fa \ud83d\udc26"}}`, ""), 1,
			[]string{secFailed(4008, "1"), secFailed(4022, "999")}, "Some security rules were not deleted"))
	expectBody(t, do(t, e, "DELETE", "/security/rules?rule_ids=all", h, ""), 200,
		secItems(secRule(100, "New_Rule", `{"OR": [{"MATCH": {"a": "b"}}]}`, ""), 1, nil, "All specified security rules were deleted"))
}

// TestSecurityBodyLimits: huge and deeply nested bodies are refused before
// anything is parsed or stored.
func TestSecurityBodyLimits(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t, func(c *config.Config) { c.API.MaxUploadSize = 4096 })
	jh := secJSONAuth(secAdminToken(t, e))
	big := `{"name": "big", "rule": {"MATCH": {"x": "` + strings.Repeat("a", 5000) + `"}}}`
	expectBody(t, do(t, e, "POST", "/security/rules", jh, big), 413,
		`{"title": "Content size exceeded.", "detail": "Maximum content size limit (4096) exceeded (4097 bytes read)"}`)
	deep := `{"name": "deep", "rule": ` + strings.Repeat(`{"a":`, 520) + `1` + strings.Repeat(`}`, 520) + `}`
	x := do(t, e, "POST", "/security/rules", jh, deep)
	if x.status != 400 || !strings.Contains(string(x.body), "Maximum recursion depth exceeded.") {
		t.Fatalf("%d %s", x.status, x.body)
	}
	expectBody(t, do(t, e, "GET", "/security/rules?rule_ids=100", map[string]string{"Authorization": jh["Authorization"]}, ""), 200,
		secItems("", 0, []string{secFailed(4022, `"100"`)}, "No security rule was returned"))
}
