package api_test

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/auth"
	"github.com/muster-project/muster/internal/core"
)

const (
	wazuhUser = `{"id": 1, "username": "wazuh", "allow_run_as": true, "roles": [1]}`
	wuiUser   = `{"id": 2, "username": "wazuh-wui", "allow_run_as": true, "roles": [1]}`
)

func TestGetUsersDefaults(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	h := bearer(secAdminToken(t, e))
	expectBody(t, do(t, e, "GET", "/security/users", h, ""), 200,
		secItems(wazuhUser+", "+wuiUser, 2, nil, "All specified users were returned"))
	expectBody(t, do(t, e, "GET", "/security/users?user_ids=2,7", h, ""), 200,
		secItems(wuiUser, 1, []string{secFailed(5001, "7")}, "Some users were not returned"))
	expectBody(t, do(t, e, "GET", "/security/users?user_ids=7", h, ""), 200,
		secItems("", 0, []string{secFailed(5001, "7")}, "No user was returned"))
	for _, q := range []string{"user_ids=all", "user_ids=1a", "limit=0", "offset=-1", "sort=id%3Bx", "search=a%3Bb", "select=a%20b", "foo=1"} {
		if x := do(t, e, "GET", "/security/users?"+q, h, ""); x.status != 400 {
			t.Errorf("%s: %d %s", q, x.status, x.body)
		}
	}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	tok := secAdminToken(t, e)
	jh := secJSONAuth(tok)
	long := "test_very_long_user_name_so_the_request_fails_because_of_maximum1"
	for _, c := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"short name", `{"username": "bob", "password": "x"}`, 400, secBadRequest("'bob' is too short - 'username'")},
		{"long name", `{"username": "` + long + `", "password": "x"}`, 400, secBadRequest("'" + long + "' is too long - 'username'")},
		{"non-ASCII name", `{"username": "new_user_啊", "password": "x"}`, 400, `{"title": "Bad Request", "detail": "'new_user_\u554a' is not a 'names' - 'username'"}`},
		{"name not a string", `{"username": 1, "password": "x"}`, 400, secBadRequest("1 is not of type 'string' - 'username'")},
		{"no password", `{"username": "newuser"}`, 400, secBadRequest("'password' is a required property")},
		{"null password", `{"username": "newuser", "password": null}`, 400, secBadRequest("None is not of type 'string' - 'password'")},
		{"extra key", `{"username": "newuser", "password": "x", "pass": 1}`, 400, secBadRequest("Invalid field found {'pass'}")},
		{"not an object", `["newuser"]`, 400, secBadRequest("['newuser'] is not of type 'object'")},
		{"not JSON", `username=newuser`, 400, secBadRequest("Expecting value: line 1 column 1 (char 0)")},
		{"empty", ``, 400, secBadRequest("Request body must not be empty")},
		{"short password", `{"username": "newuser", "password": "aA1!"}`, 400, secProblem(400, 5009, "node01")},
		{"empty password", `{"username": "newuser", "password": ""}`, 400, secProblem(400, 5009, "node01")},
		{"long password", `{"username": "newuser", "password": "aA1!` + strings.Repeat("x", 61) + `"}`, 400, secProblem(400, 5009, "node01")},
		{"no symbol", `{"username": "newuser", "password": "newUser12"}`, 400, secProblem(400, 5007, "node01")},
		{"no upper", `{"username": "newuser", "password": "new_user1"}`, 400, secProblem(400, 5007, "node01")},
		{"newline inside", `{"username": "newuser", "password": "aA1!bbbb\ncccc"}`, 400, secProblem(400, 5007, "node01")},
	} {
		t.Run(c.name, func(t *testing.T) {
			expectBody(t, do(t, e, "POST", "/security/users", jh, c.body), c.status, c.want)
		})
	}
	x := do(t, e, "POST", "/security/users", bearer(tok), `{"username": "newuser", "password": "new_user1A!"}`)
	expectBody(t, x, 406, `{"title": "Not Acceptable", "detail": "The body type is not the one specified in the content-type", "error": 6002}`)
	// A schema error wins over the missing Content-Type.
	expectBody(t, do(t, e, "POST", "/security/users", bearer(tok), `{"username": "bob", "password": "x"}`), 400,
		secBadRequest("'bob' is too short - 'username'"))
	hdr := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "text/plain"}
	expectBody(t, do(t, e, "POST", "/security/users", hdr, `{}`), 415,
		`{"title": "Unsupported Media Type", "detail": "Invalid Content-type (text/plain), expected ['application/json']"}`)

	// Non-ASCII symbols are fine; the answer escapes nothing here since the
	// user object shows no password.
	expectBody(t, do(t, e, "POST", "/security/users", jh, `{"username": "new_user", "password": "new_user1A!@#~½¬?¿ñàÀ"}`), 200,
		secItems(`{"id": 100, "username": "new_user", "allow_run_as": false, "roles": []}`, 1, nil, "User was successfully created"))
	expectBody(t, do(t, e, "POST", "/security/users", jh, `{"username": "new_user", "password": "new_user1A!"}`), 200,
		secItems("", 0, []string{secFailed(5000, `"new_user"`)}, "User could not be created"))
	// Case matters.
	if x := do(t, e, "POST", "/security/users", jh, `{"username": "New_user", "password": "new_user1A!"}`); x.status != 200 ||
		!strings.Contains(string(x.body), `"id": 101`) {
		t.Fatalf("%d %s", x.status, x.body)
	}
	// The password set through the API logs in.
	// Basic credentials are read as latin-1, so the UTF-8 password must be
	// sent in latin-1 bytes.
	latin1 := []byte("new_user:new_user1A!@#~")
	for _, r := range "½¬?¿ñàÀ" {
		latin1 = append(latin1, byte(r))
	}
	hdr = map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString(latin1)}
	if x := do(t, e, "POST", "/security/user/authenticate", hdr, ""); x.status != 200 {
		t.Fatalf("login with the non-ASCII password: %d %s", x.status, x.body)
	}
}

func TestUpdateUserPassword(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	adm := secAdmin(t, e)
	u, err := adm.CreateUser(ctx, "carol", "Carol-Pass3!")
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Second)
	admTok, carolTok := secAdminToken(t, e), token(t, e, "carol", "Carol-Pass3!")
	jh := secJSONAuth(admTok)
	expectBody(t, do(t, e, "PUT", "/security/users/100", jh, `{}`), 400, secProblem(400, 4001, "node01"))
	// Wazuh 4.14.7 stores an empty password; muster refuses it.
	expectBody(t, do(t, e, "PUT", "/security/users/100", jh, `{"password": ""}`), 400, secProblem(400, 5009, "node01"))
	expectBody(t, do(t, e, "PUT", "/security/users/100", jh, `{"password": null}`), 400,
		secBadRequest("None is not of type 'string' - 'password'"))
	expectBody(t, do(t, e, "PUT", "/security/users/100", jh, `{"password": "Carol-Pass4!", "name": "x"}`), 400,
		secBadRequest("Invalid field found {'name'}"))
	expectBody(t, do(t, e, "PUT", "/security/users/200", jh, `{"password": "Carol-Pass4!"}`), 200,
		secItems("", 0, []string{secFailed(5001, "200")}, "User could not be updated"))
	expectBody(t, do(t, e, "PUT", "/security/users/x1", jh, `{"password": "Carol-Pass4!"}`), 400,
		secBadRequest("'x1' is not a 'numbers'. Failed validating 'format' in schema: {'description': 'User ID', 'format': 'numbers', 'type': 'string'}. On instance: 'x1'"))
	// Nothing above touched carol's tokens.
	if x := do(t, e, "GET", "/", bearer(carolTok), ""); x.status != 200 {
		t.Fatalf("carol's token after failed updates: %d", x.status)
	}
	expectBody(t, do(t, e, "PUT", "/security/users/100", jh, `{"password": "Carol-Pass4!"}`), 200,
		secItems(`{"id": 100, "username": "carol", "allow_run_as": false, "roles": []}`, 1, nil, "User was successfully updated"))
	expectBody(t, do(t, e, "GET", "/", bearer(carolTok), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
	if x := do(t, e, "GET", "/", bearer(admTok), ""); x.status != 200 {
		t.Fatalf("another user's token was revoked: %d", x.status)
	}
	e.Clock.Advance(time.Second)
	expectBody(t, do(t, e, "POST", "/security/user/authenticate", basic("carol", "Carol-Pass3!"), ""), 401,
		`{"title": "Unauthorized", "detail": "Invalid credentials"}`)
	token(t, e, "carol", "Carol-Pass4!")

	// A user with id > 99 may not change reserved users (5011), even with
	// every permission; a reserved caller may.
	if _, err := adm.AddUserRoles(ctx, u.ID, []int{1}, -1); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Second)
	carolAdmin := secJSONAuth(token(t, e, "carol", "Carol-Pass4!"))
	expectBody(t, do(t, e, "PUT", "/security/users/2", carolAdmin, `{"password": "Wazuh-Wui1!"}`), 400,
		secProblem(400, 5011, "node01"))
	expectBody(t, do(t, e, "PUT", "/security/users/50", carolAdmin, `{"password": "Wazuh-Wui1!"}`), 200,
		secItems("", 0, []string{secFailed(5001, "50")}, "User could not be updated"))
	expectBody(t, do(t, e, "PUT", "/security/users/2", jh, `{"password": "Wazuh-Wui1!"}`), 200,
		secItems(wuiUser, 1, nil, "User was successfully updated"))
	e.Clock.Advance(time.Second)
	token(t, e, "wazuh-wui", "Wazuh-Wui1!")
	if got := e.Security.DefaultPasswordsInUse(); len(got) != 1 || got[0] != "wazuh" {
		t.Fatalf("default passwords in use: %v", got)
	}
}

func TestDeleteUsers(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	adm := secAdmin(t, e)
	for _, n := range []string{"dave", "erin", "frank"} {
		if _, err := adm.CreateUser(ctx, n, "Passw0rd!x"); err != nil {
			t.Fatal(err)
		}
	}
	// A user with id 1000 sorts before 101 in Wazuh's answer (by text).
	secInsertUser(t, e, core.User{ID: 1000, Username: "grace"})
	if _, err := adm.AddUserRoles(ctx, 101, []int{1}, -1); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Second)
	erin := token(t, e, "erin", "Passw0rd!x")
	grace := token(t, e, "grace", "Passw0rd!x")
	expectBody(t, do(t, e, "DELETE", "/security/users?user_ids=101,1,99,555", bearer(erin), ""), 200,
		secItems("", 0, []string{secFailed(5001, "555"), secFailed(5004, "1, 99"), secFailed(5008, "101")}, "No user was deleted"))
	expectBody(t, do(t, e, "DELETE", "/security/users?user_ids=101", bearer(erin), ""), 200,
		secItems("", 0, []string{secFailed(5008, "101")}, "No user was deleted"))
	if x := do(t, e, "DELETE", "/security/users", bearer(erin), ""); x.status != 400 ||
		string(x.body) != secBadRequest("Missing query parameter 'user_ids'") {
		t.Fatalf("%d %s", x.status, x.body)
	}
	expectBody(t, do(t, e, "DELETE", "/security/users?user_ids=102,1000", bearer(erin), ""), 200,
		secItems(`{"id": 1000, "username": "grace", "allow_run_as": false, "roles": []}, `+
			`{"id": 102, "username": "frank", "allow_run_as": false, "roles": []}`, 2, nil, "Users were successfully deleted"))
	expectBody(t, do(t, e, "GET", "/", bearer(grace), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
	// all: only what can be deleted; the caller, reserved users and missing ids stay silent.
	expectBody(t, do(t, e, "DELETE", "/security/users?user_ids=all", bearer(erin), ""), 200,
		secItems(`{"id": 100, "username": "dave", "allow_run_as": false, "roles": []}`, 1, nil, "Users were successfully deleted"))
	expectBody(t, do(t, e, "DELETE", "/security/users?user_ids=all", bearer(erin), ""), 200,
		secItems("", 0, nil, "No user was deleted"))
	users, err := adm.ListUsers(ctx, client.ListOptions{})
	if err != nil || users.TotalAffectedItems != 3 {
		t.Fatalf("%+v %v", users, err)
	}
}

// insertUser writes a user straight into the store (to get ids the API
// would not allocate), with password Passw0rd!x, then makes the manager
// reload by creating and deleting a role through the API.
func secInsertUser(t *testing.T, e *apitest.Env, u core.User) {
	t.Helper()
	u.Password = secTestHash(t)
	err := e.Store.UpdateSecurity(context.Background(), func(tx core.SecurityTx) error {
		_, err := tx.InsertUser(u)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	secReload(t, e)
}

// testHash is the hash of Passw0rd!x, computed once: scrypt is slow.
func secTestHash(t *testing.T) string {
	t.Helper()
	hashOnce.Do(func() { hashValue, hashErr = auth.HashPassword("Passw0rd!x") })
	if hashErr != nil {
		t.Fatal(hashErr)
	}
	return hashValue
}

var (
	hashOnce  sync.Once
	hashValue string
	hashErr   error
)

func secReload(t *testing.T, e *apitest.Env) {
	t.Helper()
	ctx := context.Background()
	adm := secAdmin(t, e)
	r, err := adm.CreateRole(ctx, "reload_trigger")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.DeleteRoles(ctx, []int{r.ID}); err != nil {
		t.Fatal(err)
	}
}

func TestRunAsFlag(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	tok := secAdminToken(t, e)
	wui := token(t, e, "wazuh-wui", "wazuh-wui")
	h := bearer(tok)
	expectBody(t, do(t, e, "PUT", "/security/users/2/run_as", h, ""), 200,
		secItems(`{"id": 2, "username": "wazuh-wui", "allow_run_as": false, "roles": [1]}`, 1, nil,
			"Parameter allow_run_as has been disabled for the user"))
	expectBody(t, do(t, e, "GET", "/", bearer(wui), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
	expectBody(t, do(t, e, "PUT", "/security/users/2/run_as?allow_run_as=True", h, ""), 200,
		secItems(wuiUser, 1, nil, "Parameter allow_run_as has been enabled for the user"))
	expectBody(t, do(t, e, "PUT", "/security/users/7/run_as?allow_run_as=true", h, ""), 200,
		secItems("", 0, []string{secFailed(5001, "7")}, "The parameter allow_run_as could not be enabled for the user"))
	if x := do(t, e, "PUT", "/security/users/2/run_as?allow_run_as=yes", h, ""); x.status != 400 {
		t.Fatalf("%d %s", x.status, x.body)
	}
	if x := do(t, e, "PUT", "/security/users/INVALID/run_as", h, ""); x.status != 400 {
		t.Fatalf("%d %s", x.status, x.body)
	}
}
