package agentql

// VersionKeyColumn is the agent-table column AgentSchema sorts "version" by.
// The store keeps it equal to VersionKey(version) (NULL when version is NULL)
// on every write of version, so ORDER BY compares versions numerically on
// the whole result instead of Wazuh's text order re-sorted within one page.
const VersionKeyColumn = "version_key"

// AgentSchema is the agent allow-list of GET /agents (agents.md §1.2 and
// Appendix B) over Wazuh's global.db agent table columns. internal_key is
// deliberately absent: it cannot be selected, sorted, queried or searched.
var AgentSchema = NewSchema([]Field{
	{Name: "id", Column: "id", Kind: KindInt, Search: SearchExact},
	{Name: "name", Column: "name"},
	{Name: "ip", Column: "coalesce(ip, register_ip)"},
	{Name: "status", Column: "connection_status"},
	{Name: "os.name", Column: "os_name"},
	{Name: "os.version", Column: "os_version",
		Sort: []string{"CAST(os_major AS INTEGER)", "CAST(os_minor AS INTEGER)"},
		SortPG: []string{
			"CAST(substring(os_major from '^[0-9]{1,18}') AS BIGINT)",
			"CAST(substring(os_minor from '^[0-9]{1,18}') AS BIGINT)",
		}},
	{Name: "os.platform", Column: "os_platform"},
	{Name: "version", Column: "version", Kind: KindVersion, Sort: []string{VersionKeyColumn}},
	{Name: "manager", Column: "manager_host"},
	{Name: "dateAdd", Column: "date_add", Kind: KindDate},
	{Name: "group", Column: `"group"`, Kind: KindCSV},
	{Name: "mergedSum", Column: "merged_sum"},
	{Name: "configSum", Column: "config_sum"},
	{Name: "os.codename", Column: "os_codename"},
	{Name: "os.major", Column: "os_major"},
	{Name: "os.minor", Column: "os_minor"},
	{Name: "os.uname", Column: "os_uname"},
	{Name: "os.arch", Column: "os_arch"},
	{Name: "os.build", Column: "os_build"},
	{Name: "node_name", Column: "node_name"},
	{Name: "lastKeepAlive", Column: "last_keepalive", Kind: KindDate},
	{Name: "registerIP", Column: "register_ip"},
	{Name: "disconnection_time", Column: "disconnection_time", Kind: KindInt},
	{Name: "group_config_status", Column: "group_config_status"},
	{Name: "status_code", Column: "status_code", Kind: KindInt},
}, DateGuard("id"))

// AgentFields lists the agent field names in sorted order: the fields
// allowed in select, sort and q (and the fields of stats/distinct).
var AgentFields = AgentSchema.Names()

// Security-list schemas: Wazuh filters users, roles, policies and rules in
// memory and does not check q field names there, so these are lenient; the
// declared fields only fix how values compare. Columns name the obvious
// table columns for a store that prefers to filter in SQL.
var (
	UserSchema = NewSchema([]Field{
		{Name: "id", Column: "id", Kind: KindInt},
		{Name: "username", Column: "username"},
		{Name: "allow_run_as", Column: "allow_run_as", Kind: KindBool},
		{Name: "roles", Kind: KindList},
	}, Lenient())
	RoleSchema = NewSchema([]Field{
		{Name: "id", Column: "id", Kind: KindInt},
		{Name: "name", Column: "name"},
		{Name: "policies", Kind: KindList},
		{Name: "users", Kind: KindList},
		{Name: "rules", Kind: KindList},
	}, Lenient())
	PolicySchema = NewSchema([]Field{
		{Name: "id", Column: "id", Kind: KindInt},
		{Name: "name", Column: "name"},
		{Name: "roles", Kind: KindList},
	}, Lenient())
	RuleSchema = NewSchema([]Field{
		{Name: "id", Column: "id", Kind: KindInt},
		{Name: "name", Column: "name"},
		{Name: "roles", Kind: KindList},
	}, Lenient())
)

// Sort fields Wazuh allows on the security lists (security.md §9.8).
var (
	UserSortFields     = []string{"id", "username"}
	SecuritySortFields = []string{"id", "name"}
)
