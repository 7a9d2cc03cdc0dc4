package agentproto

import (
	"strings"
)

// Validation rules of the enrollment fields (spec §2.2, §2.6).
const (
	// MaxGroupsPerAgent is the multigroup limit (MAX_GROUPS_PER_MULTIGROUP).
	MaxGroupsPerAgent = 128
	// MaxGroupName is the longest single group name (MAX_GROUP_NAME).
	MaxGroupName = 255

	groupSyntaxChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:;_-=+!@(),"
	groupProhibited  = "... characters '\\/:*?\"<>|,' are prohibited"
	nameChars        = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
)

// ValidAgentName reports whether name is 2 to 128 characters of [A-Za-z0-9._-]
// not starting with '.'.
func ValidAgentName(name string) bool {
	if len(name) < 2 || len(name) > maxNameLength || name[0] == '.' {
		return false
	}
	return onlyChars(name, nameChars)
}

// SanitizeAgentName drops the characters an agent name may not contain, the
// way agents derive their default name from the host name.
func SanitizeAgentName(host string) string {
	var b strings.Builder
	for i := 0; i < len(host); i++ {
		if strings.IndexByte(nameChars, host[i]) >= 0 {
			b.WriteByte(host[i])
		}
	}
	return b.String()
}

// checkGroupSyntax applies the syntax rules of the G: field in the
// reference's order; group text in messages is cut at 255 bytes.
func checkGroupSyntax(g string) *EnrollError {
	if g == "" {
		return refuse(ReasonEmptyGroup)
	}
	shown := g[:min(len(g), 255)]
	multi := strings.Contains(g, ",")
	if !multi && len(g) > MaxGroupName {
		return refuse("ERROR: Invalid group name: " + shown + "... group is too large")
	}
	if multi && len(g) > 65535 {
		return refuse("ERROR: Invalid group name: " + shown + "... multigroup is too large")
	}
	if multi {
		for _, one := range strings.Split(g, ",") {
			if strings.Contains(one, " ") {
				return refuse("ERROR: Invalid group name: " + shown + "... white spaces are not allowed")
			}
			if len(one) > MaxGroupName {
				return refuse("ERROR: Invalid group name: " + one[:255] + "... group is too large")
			}
		}
		if strings.Contains(g, ",,") {
			return refuse("ERROR: Invalid group name: " + shown + "... consecutive ',' are not allowed")
		}
	}
	if strings.Count(g, ",") == len(g) {
		return refuse("ERROR: Invalid group name: " + shown + groupProhibited)
	}
	if g[0] == ',' || g[len(g)-1] == ',' {
		return refuse("ERROR: Invalid group name: " + shown + "... cannot start or end with ','")
	}
	if !onlyChars(g, groupSyntaxChars) {
		return refuse("ERROR: Invalid group name: " + shown + groupProhibited)
	}
	return nil
}

// dedupeGroups splits a multigroup and keeps the first occurrence of each name.
func dedupeGroups(g string) []string {
	var out []string
	seen := map[string]bool{}
	for _, one := range strings.Split(g, ",") {
		if one != "" && !seen[one] {
			seen[one] = true
			out = append(out, one)
		}
	}
	return out
}

// ValidateGroups is authd's second group check, made under its lock before an
// agent is added: at most 128 groups, each matching ^[a-zA-Z0-9_.-]+$, neither
// "." nor "..", and existing (exists reports whether etc/shared/<group> is
// there). It returns nil or the refusal to send.
func ValidateGroups(groups []string, exists func(group string) bool) *EnrollError {
	for i, g := range groups {
		if i+1 > MaxGroupsPerAgent {
			return refuse(ReasonMaxGroups)
		}
		if g == "" || !onlyChars(g, nameChars) || g == "." || g == ".." {
			return RefuseInvalidGroupName(g)
		}
		if exists != nil && !exists(g) {
			return RefuseUnknownGroup(g)
		}
	}
	return nil
}

// CompareVersions compares Wazuh versions such as "v4.14.7" like the reference:
// only the first 9 bytes count, text up to the first 'v' is skipped, fields
// are dot-separated numbers read like atoi, and the patch number counts only
// when comparePatch is set. It returns -1, 0 or 1.
func CompareVersions(a, b string, comparePatch bool) int {
	va, vb := versionFields(a), versionFields(b)
	n := 2
	if comparePatch {
		n = 3
	}
	for i := 0; i < n; i++ {
		switch {
		case va[i] > vb[i]:
			return 1
		case va[i] < vb[i]:
			return -1
		}
	}
	return 0
}

func versionFields(v string) [3]int {
	v = v[:min(len(v), 9)]
	if i := strings.IndexByte(v, 'v'); i >= 0 {
		v = v[i+1:]
	}
	var out [3]int
	i := 0
	for _, tok := range strings.Split(v, ".") {
		if tok == "" {
			continue
		}
		if i == 3 {
			break
		}
		out[i] = int(int32(atoi32([]byte(tok))))
		i++
	}
	return out
}

func onlyChars(s, allowed string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(allowed, s[i]) < 0 {
			return false
		}
	}
	return true
}
