// Package agentql implements Wazuh's q query language and the list
// parameters that go with it (search, sort, select), for muster's agent
// registry and security lists: a tokenizer and parser to an AST, field
// allow-lists (Schema), SQL rendering with bound arguments for SQLite and
// PostgreSQL, and in-memory evaluation with the same semantics.
//
// # Language
//
// q is a list of conditions "field op value" joined by ";" (AND) and ","
// (OR), with parentheses; AND binds tighter than OR, as in SQL. Operators are
// = != < > and ~ (contains, LIKE '%value%'). Values run until a separator or
// an unmatched parenthesis: they may hold letters, digits and _ -.:?\/'"=@%<>{}$
// and spaces, "(...)" groups attached to them and "[...]" groups, which may
// also hold commas. There is no escape character, and no empty value.
// Comparisons ignore ASCII case (SQLite's NOCASE and LIKE). The value null
// tests for NULL whatever the operator; a condition whose value is all is
// dropped with its separator. Integer fields compare as numbers; version
// values get Wazuh's "wazuhv4" -> "wazuh v4" spacing; group (KindCSV) tests
// membership of its comma-separated list with = and != (% and _ in the value
// stay wildcards) and accepts only = != ~. Dates (dateAdd, lastKeepAlive)
// take a time frame (digits = seconds, or 1d2h30m) where < and = mean newer
// than and > != ~ older than, or a UTC date YYYY-MM-DD[ HH:MM:SS]; every date
// condition also requires id != 0 (agent 000 never matches).
//
// # Deliberate differences from Wazuh 4.14
//
//   - The rendered q is always wrapped in parentheses, so a top-level OR cannot
//     escape the RBAC, agents_list and named-filter conditions it is AND-ed with.
//   - Text the tokenizer cannot read (name=a&b), a dangling separator and
//     unbalanced parentheses are 1407; Wazuh silently skips the text or fails
//     later with 2003, and accepts some unbalanced inputs such as "a),b".
//     Correctly nested parentheses always mean what they say, where Wazuh's
//     SQL builder breaks on some ("(((a;b));c)").
//   - Dropping an "all" condition that would silently regroup its neighbours
//     ("(a;x=all),b") is 1407 instead.
//   - Values are bound, never pasted into SQL, so quotes need no rewriting:
//     Wazuh turns ' and " into the _ wildcard and the comparison into LIKE;
//     here they match themselves. Values are not re-serialised as JSON either
//     (Wazuh turns 22.10 into 22.1 and 1e3 into 1000.0).
//   - null on a date field tests for NULL (Wazuh answers 500); a time frame
//     with trailing text (7dabc, 1d2x) is 1411 and a malformed or impossible
//     date is 1412 (Wazuh ignores the rest, crashes, or finds nothing).
//   - search does not look into internal_key (Wazuh's would let a reader probe
//     agent keys); boolean fields accept only = and != (1409).
//   - Security lists: Wazuh's in-memory q compares case-sensitively, has no
//     parentheses, null or all, and never matches booleans; Match gives them
//     the same semantics as the SQL above.
//
// Limits: q and search up to MaxQueryLength bytes, parentheses nested up to
// MaxDepth; long AND/OR lists render as balanced trees so SQLite's
// expression-depth limit is never reached.
package agentql
