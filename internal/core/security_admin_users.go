package core

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/muster-project/muster/internal/auth"
)

// ValidatePassword applies Wazuh's password policy: 8 to 64 characters
// (5009), then at least one lower-case and one upper-case ASCII letter, a
// digit and a character that is not an ASCII letter or digit, all on one
// line (5007). An empty password fails the length rule.
func ValidatePassword(p string) error {
	if n := utf8.RuneCountInString(p); n < 8 || n > 64 {
		return E(5009)
	}
	// Python's "$" accepts one final newline; "." accepts no other.
	line := strings.TrimSuffix(p, "\n")
	if strings.Contains(line, "\n") || utf8.RuneCountInString(line) < 8 {
		return E(5007)
	}
	var lower, upper, digit, symbol bool
	for _, r := range line {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			symbol = true
			digit = digit || unicode.IsDigit(r)
		}
	}
	if !lower || !upper || !digit || !symbol {
		return E(5007)
	}
	return nil
}

// CreateUser adds a user without roles and with run_as disabled (POST
// /security/users). The password policy is checked first (400); a taken
// user name is failed item 5000.
func (s *Security) CreateUser(ctx context.Context, username, password string) (*Bulk, error) {
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	b := NewBulk("User was successfully created", "User could not be created", "User could not be created")
	if _, taken := s.snap.Load().usersByName[username]; taken {
		b.Fail(E(5000), username)
		return b, nil
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, Internal(err)
	}
	err = s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		if _, taken := snap.usersByName[username]; taken {
			b.Fail(E(5000), username)
			return nil
		}
		id, err := tx.InsertUser(User{Username: username, Password: hash, CreatedAt: s.stamp()})
		if err != nil {
			return err
		}
		b.Add(UserInfo{ID: id, Username: username, Roles: []int{}})
		return nil
	})
	return b, err
}

// UpdatePassword changes a user's password (PUT /security/users/{user_id})
// and revokes the user's tokens. A nil password is 4001. Unlike Wazuh
// 4.14.7, an empty password is checked like any other (and refused).
// Reserved users (id ≤ 99) may only be changed by reserved callers (5011).
func (s *Security) UpdatePassword(ctx context.Context, caller *Session, id int, password *string) (*Bulk, error) {
	if password == nil {
		return nil, E(4001)
	}
	if err := ValidatePassword(*password); err != nil {
		return nil, err
	}
	b := NewBulk("User was successfully updated", "User could not be updated", "User could not be updated")
	if _, ok := s.snap.Load().usersByID[id]; !ok {
		b.Fail(E(5001), id)
		return b, nil
	}
	if id <= MaxReservedID && caller != nil && caller.UserID > MaxReservedID {
		return nil, E(5011)
	}
	hash, err := auth.HashPassword(*password)
	if err != nil {
		return nil, Internal(err)
	}
	err = s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		u, ok := snap.usersByID[id]
		if !ok {
			b.Fail(E(5001), id)
			return nil
		}
		next := *u
		next.Password = hash
		if err := tx.UpdateUser(next); err != nil {
			return err
		}
		if err := s.revoker(tx).user(id); err != nil {
			return err
		}
		b.Add(snap.userInfo(u))
		return nil
	})
	return b, err
}

// SetRunAs enables or disables a user's authorization-context logins (PUT
// /security/users/{user_id}/run_as) and revokes the user's tokens.
// Reserved users are not protected here, as in Wazuh.
func (s *Security) SetRunAs(ctx context.Context, id int, allow bool) (*Bulk, error) {
	word := "disabled"
	if allow {
		word = "enabled"
	}
	b := NewBulk("Parameter allow_run_as has been "+word+" for the user", "",
		"The parameter allow_run_as could not be "+word+" for the user")
	b.SomeMsg = b.NoneMsg
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		u, ok := snap.usersByID[id]
		if !ok {
			b.Fail(E(5001), id)
			return nil
		}
		next := *u
		next.AllowRunAs = allow
		if err := tx.UpdateUser(next); err != nil {
			return err
		}
		if err := s.revoker(tx).user(id); err != nil {
			return err
		}
		info := snap.userInfo(u)
		info.AllowRunAs = allow
		b.Add(info)
		return nil
	})
	return b, err
}

// DeleteUsers deletes users (DELETE /security/users) and revokes their
// tokens. The caller cannot delete itself (5008, unless reserved), reserved
// users cannot be deleted (5004). Deleted users are listed in the order
// Wazuh sorts them (by the text of their id).
func (s *Security) DeleteUsers(ctx context.Context, caller *Session, sel Selection) (*Bulk, error) {
	b := NewBulk("Users were successfully deleted", "Some users were not deleted", "No user was deleted")
	err := s.write(ctx, func(snap *snapshot, tx SecurityTx) error {
		f := newFailer(b, sel, 5001, 5004, 5008)
		rv := s.revoker(tx)
		existing := ids(snap.data.Users, func(x User) int { return x.ID })
		var deleted []UserInfo
		gone := map[int]bool{}
		for _, id := range sel.pick(existing) {
			u, ok := snap.usersByID[id]
			switch {
			case caller != nil && id == caller.UserID && id > MaxReservedID:
				f.fail(5008, id)
				continue
			case id <= MaxReservedID:
				f.fail(5004, id)
				continue
			case !ok || gone[id]:
				f.fail(5001, id)
				continue
			}
			for _, role := range snap.userRoles[id] {
				if err := tx.DeleteLink(UserRolesTable, id, role); err != nil {
					return err
				}
			}
			if err := tx.DeleteUser(id); err != nil {
				return err
			}
			if err := rv.user(id); err != nil {
				return err
			}
			gone[id] = true
			deleted = append(deleted, snap.userInfo(u))
		}
		sort.SliceStable(deleted, func(i, j int) bool {
			return strconv.Itoa(deleted[i].ID)+"," < strconv.Itoa(deleted[j].ID)+","
		})
		for _, u := range deleted {
			b.Add(u)
		}
		return nil
	})
	return b, err
}
