package core

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidatePassword(t *testing.T) {
	for _, c := range []struct {
		pw   string
		code int
	}{
		{"", 5009},
		{"aA1!", 5009},
		{"aA1!" + strings.Repeat("x", 61), 5009},
		{"aA1!" + strings.Repeat("x", 60), 0},
		{"new_user", 5007},
		{"new_user1A!", 0},
		{"new_user1A!@#~½¬?¿ñàÀ", 0},
		{"NEW_USER1!", 5007}, // no lower case
		{"new_userA!", 5007}, // no digit
		{"newuser1A", 5007},  // no symbol
		{"newuserA١!", 0},    // an Arabic-Indic digit is a digit for Python's \d
		{"newuserAB١", 0},    // ... and not an ASCII letter or digit: a symbol
		{"aA1!bbbb\n", 0},    // "$" accepts one final newline
		{"aA1!bbb\n", 5007},  // ... which does not count towards the 8
		{"aA1!\nbbbb", 5007}, // "." accepts no other newline
		{"ñññññññ", 5009},    // 7 characters, 14 bytes
		{"aA1!ññññ", 0},      // 8 characters
		{strings.Repeat("ñ", 64) + "aA1!", 5009},
	} {
		err := ValidatePassword(c.pw)
		var e *Error
		switch {
		case c.code == 0 && err != nil:
			t.Errorf("%q: %v", c.pw, err)
		case c.code != 0 && (!errors.As(err, &e) || e.Code != c.code):
			t.Errorf("%q: %v, want %d", c.pw, err, c.code)
		}
	}
}

func TestPyRepr(t *testing.T) {
	for in, want := range map[string]string{
		`"abc"`:                 `'abc'`,
		`"it's"`:                `"it's"`,
		`"it's \"x\""`:          `'it\'s "x"'`,
		`"a\\b\nc\u0001\u00e9"`: `'a\\b\nc\x01é'`,
		`[1, 2.50, true, null]`: `[1, 2.5, True, None]`,
		`{"k": {"x": [false]}}`: `{'k': {'x': [False]}}`,
		`not json`:              `not json`,
	} {
		if got := PyRepr([]byte(in)); got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
}

func TestPreparePolicy(t *testing.T) {
	ok := func(in, want string) {
		t.Helper()
		got, err := preparePolicy([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
	ok(`{"actions":["AGENT:Read"],"resources":["Agent:ID:ABC","GroUp:iD:Group_Name&NODE:ID:W1"],"effect":"Allow"}`,
		`{"actions": ["agent:read"], "resources": ["agent:id:ABC", "group:id:Group_Name&node:id:W1"], "effect": "allow"}`)
	ok(`{"resources":["*:*:*"],"effect":"deny","actions":["x:y"]}`, `{"resources": ["*:*:*"], "effect": "deny", "actions": ["x:y"]}`)
	for _, bad := range []string{
		`{"actions":["a:b"],"resources":["a:b:c"]}`,
		`{"actions":["a:b"],"resources":["a:b:c"],"effect":"allow","more":1}`,
		`{"actions":"a:b","resources":["a:b:c"],"effect":"allow"}`,
		`{"actions":["a:b:c"],"resources":["a:b:c"],"effect":"allow"}`,
		`{"actions":["a1:b"],"resources":["a:b:c"],"effect":"allow"}`,
		`{"actions":["a:b"],"resources":["a:b"],"effect":"allow"}`,
		`{"actions":["a:b"],"resources":["a:b:c&d:e"],"effect":"allow"}`,
		`{"actions":["a:b"],"resources":["a:b:c d"],"effect":"allow"}`,
		`{"actions":["a:b"],"resources":["a:b:c"],"effect":1}`,
		`[]`,
	} {
		if _, err := preparePolicy([]byte(bad)); !errors.Is(err, errPolicyInvalid) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	for in, suffix := range map[string]bool{
		`{"actions":["a:b"],"resources":["a:b:c&d:e:f&g:h:i"],"effect":"allow"}`: true,
		`{"actions":["a:b"],"resources":["a-x:b:c"],"effect":"allow"}`:           false,
		`{"actions":["a:b"],"resources":["a:b:ç"],"effect":"allow"}`:             false,
	} {
		_, err := preparePolicy([]byte(in))
		var e *Error
		if !errors.As(err, &e) || e.Code != 4500 || strings.HasSuffix(e.Remediation, ": The maximum length for permission combinations is two") != suffix {
			t.Errorf("%s: %v", in, err)
		}
	}
}

// fakeTx records the link writes of a linkSet.
type fakeTx struct {
	SecurityTx
	log []string
}

func (f *fakeTx) InsertLink(table string, l Link) error {
	f.log = append(f.log, fmt.Sprintf("insert %d@%d", l.To, l.Level))
	return nil
}

func (f *fakeTx) UpdateLinkLevel(table string, from, to, level int) error {
	f.log = append(f.log, fmt.Sprintf("move %d@%d", to, level))
	return nil
}

func (f *fakeTx) DeleteLink(table string, from, to int) error {
	f.log = append(f.log, fmt.Sprintf("delete %d", to))
	return nil
}

func TestLinkPositions(t *testing.T) {
	pos := func(n int) *int { return &n }
	order := func(ls *linkSet) string {
		snap := newSnapshot(&SecurityData{UserRoles: ls.links})
		return fmt.Sprint(snap.userRoles[7])
	}
	tx := &fakeTx{}
	ls := newLinkSet(nil, UserRolesTable, 7)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ls.add(tx, 10, pos(5), "")) // the first link takes level 0 whatever the position
	must(ls.add(tx, 11, nil, ""))
	must(ls.add(tx, 12, pos(0), ""))
	must(ls.add(tx, 13, pos(2), ""))
	if got, want := order(ls), "[12 10 13 11]"; got != want {
		t.Fatalf("order %s, want %s", got, want)
	}
	if got := strings.Join(tx.log, ", "); got != "insert 10@0, insert 11@1, move 10@1, move 11@2, insert 12@0, move 11@3, insert 13@2" {
		t.Fatalf("writes: %s", got)
	}
	must(ls.remove(tx, 10, false)) // user roles keep their levels: 12@0 13@2 11@3
	must(ls.add(tx, 14, nil, ""))  // level = 3 links → 3, tied with 11, after it
	if got, want := order(ls), "[12 13 11 14]"; got != want {
		t.Fatalf("order %s, want %s", got, want)
	}
	must(ls.add(tx, 15, pos(9), "")) // beyond the end: highest + 1
	if l := ls.links[len(ls.links)-1]; l.Level != 4 {
		t.Fatalf("appended at %d", l.Level)
	}
	tx.log = nil
	must(ls.remove(tx, 13, true)) // role policies renumber what follows
	if got := strings.Join(tx.log, ", "); got != "delete 13, move 11@2, move 14@2, move 15@3" {
		t.Fatalf("writes: %s", got)
	}
}
