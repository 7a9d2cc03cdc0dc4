package core

// Generated from the RBAC database of a freshly installed Wazuh 4.14.7
// manager: the objects every Wazuh user expects, with their ids, names and
// bodies. Default passwords equal the user names.

// DefaultUsers are the users Wazuh ships (passwords set at seeding).
var DefaultUsers = []User{
	{ID: 1, Username: "wazuh", AllowRunAs: true},
	{ID: 2, Username: "wazuh-wui", AllowRunAs: true},
}

// DefaultRoles are the roles Wazuh ships.
var DefaultRoles = []Role{
	{ID: 1, Name: "administrator"},
	{ID: 2, Name: "readonly"},
	{ID: 3, Name: "users_admin"},
	{ID: 4, Name: "agents_readonly"},
	{ID: 5, Name: "agents_admin"},
	{ID: 6, Name: "cluster_readonly"},
	{ID: 7, Name: "cluster_admin"},
}

// DefaultPolicies are the policies Wazuh ships, bodies as stored.
var DefaultPolicies = []Policy{
	{ID: 1, Name: "agents_all_resourceless", Body: []byte(`{"actions": ["agent:create", "group:create", "agent:uninstall"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 2, Name: "agents_all_agents", Body: []byte(`{"actions": ["agent:read", "agent:delete", "agent:modify_group", "agent:reconnect", "agent:restart", "agent:upgrade"], "resources": ["agent:id:*", "agent:group:*"], "effect": "allow"}`)},
	{ID: 3, Name: "agents_all_groups", Body: []byte(`{"actions": ["group:read", "group:delete", "group:update_config", "group:modify_assignments"], "resources": ["group:id:*"], "effect": "allow"}`)},
	{ID: 4, Name: "agents_read_agents", Body: []byte(`{"actions": ["agent:read"], "resources": ["agent:id:*", "agent:group:*"], "effect": "allow"}`)},
	{ID: 5, Name: "agents_read_groups", Body: []byte(`{"actions": ["group:read"], "resources": ["group:id:*"], "effect": "allow"}`)},
	{ID: 6, Name: "agents_commands_agents", Body: []byte(`{"actions": ["active-response:command"], "resources": ["agent:id:*"], "effect": "allow"}`)},
	{ID: 7, Name: "security_all_resourceless", Body: []byte(`{"actions": ["security:create", "security:create_user", "security:read_config", "security:update_config", "security:revoke", "security:edit_run_as"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 8, Name: "security_all_security", Body: []byte(`{"actions": ["security:read", "security:update", "security:delete"], "resources": ["role:id:*", "policy:id:*", "user:id:*", "rule:id:*"], "effect": "allow"}`)},
	{ID: 9, Name: "users_all_resourceless", Body: []byte(`{"actions": ["security:create_user", "security:revoke", "security:edit_run_as"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 10, Name: "users_all_users", Body: []byte(`{"actions": ["security:read", "security:update", "security:delete"], "resources": ["user:id:*"], "effect": "allow"}`)},
	{ID: 11, Name: "users_modify_run_as_flag", Body: []byte(`{"actions": ["security:edit_run_as"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 12, Name: "ciscat_read_ciscat", Body: []byte(`{"actions": ["ciscat:read"], "resources": ["agent:id:*"], "effect": "allow"}`)},
	{ID: 13, Name: "decoders_read_decoders", Body: []byte(`{"actions": ["decoders:read"], "resources": ["decoder:file:*"], "effect": "allow"}`)},
	{ID: 14, Name: "decoders_all_files", Body: []byte(`{"actions": ["decoders:read", "decoders:delete"], "resources": ["decoder:file:*"], "effect": "allow"}`)},
	{ID: 15, Name: "decoders_all_resourceless", Body: []byte(`{"actions": ["decoders:update"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 16, Name: "mitre_read_mitre", Body: []byte(`{"actions": ["mitre:read"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 17, Name: "lists_read_rules", Body: []byte(`{"actions": ["lists:read"], "resources": ["list:file:*"], "effect": "allow"}`)},
	{ID: 18, Name: "lists_all_rules", Body: []byte(`{"actions": ["lists:read", "lists:delete"], "resources": ["list:file:*"], "effect": "allow"}`)},
	{ID: 19, Name: "lists_all_resourceless", Body: []byte(`{"actions": ["lists:update"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 20, Name: "rootcheck_read_rootcheck", Body: []byte(`{"actions": ["rootcheck:read"], "resources": ["agent:id:*"], "effect": "allow"}`)},
	{ID: 21, Name: "rootcheck_all_rootcheck", Body: []byte(`{"actions": ["rootcheck:clear", "rootcheck:read", "rootcheck:run"], "resources": ["agent:id:*"], "effect": "allow"}`)},
	{ID: 22, Name: "rules_read_rules", Body: []byte(`{"actions": ["rules:read"], "resources": ["rule:file:*"], "effect": "allow"}`)},
	{ID: 23, Name: "rules_all_files", Body: []byte(`{"actions": ["rules:read", "rules:delete"], "resources": ["rule:file:*"], "effect": "allow"}`)},
	{ID: 24, Name: "rules_all_resourceless", Body: []byte(`{"actions": ["rules:update"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 25, Name: "sca_read_sca", Body: []byte(`{"actions": ["sca:read"], "resources": ["agent:id:*"], "effect": "allow"}`)},
	{ID: 26, Name: "syscheck_read_syscheck", Body: []byte(`{"actions": ["syscheck:read"], "resources": ["agent:id:*"], "effect": "allow"}`)},
	{ID: 27, Name: "syscheck_all_syscheck", Body: []byte(`{"actions": ["syscheck:clear", "syscheck:read", "syscheck:run"], "resources": ["agent:id:*"], "effect": "allow"}`)},
	{ID: 28, Name: "syscollector_read_syscollector", Body: []byte(`{"actions": ["syscollector:read"], "resources": ["agent:id:*"], "effect": "allow"}`)},
	{ID: 29, Name: "cluster_all_resourceless", Body: []byte(`{"actions": ["cluster:status", "manager:read", "manager:read_api_config", "manager:update_config", "manager:restart"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 30, Name: "cluster_all_nodes", Body: []byte(`{"actions": ["cluster:read_api_config", "cluster:read", "cluster:restart", "cluster:update_config"], "resources": ["node:id:*"], "effect": "allow"}`)},
	{ID: 31, Name: "cluster_read_resourceless", Body: []byte(`{"actions": ["cluster:status", "manager:read", "manager:read_api_config"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 32, Name: "cluster_read_nodes", Body: []byte(`{"actions": ["cluster:read_api_config", "cluster:read", "cluster:read_api_config"], "resources": ["node:id:*"], "effect": "allow"}`)},
	{ID: 33, Name: "logtest_all_logtest", Body: []byte(`{"actions": ["logtest:run"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 34, Name: "task_status_task", Body: []byte(`{"actions": ["task:status"], "resources": ["*:*:*"], "effect": "allow"}`)},
	{ID: 35, Name: "events_ingest_resourceless", Body: []byte(`{"actions": ["event:ingest"], "resources": ["*:*:*"], "effect": "allow"}`)},
}

// DefaultRules are the security rules Wazuh ships.
var DefaultRules = []Rule{
	{ID: 1, Name: "wui_elastic_admin", Body: []byte(`{"FIND": {"username": "elastic"}}`)},
	{ID: 2, Name: "wui_opensearch_admin", Body: []byte(`{"FIND": {"user_name": "admin"}}`)},
}

// DefaultUserRoles are the default user_roles links in storage order.
var DefaultUserRoles = []Link{
	{ID: 1, From: 1, To: 1, Level: 0},
	{ID: 2, From: 2, To: 1, Level: 0},
}

// DefaultRolePolicies are the default roles_policies links in storage order.
var DefaultRolePolicies = []Link{
	{ID: 1, From: 1, To: 1, Level: 0},
	{ID: 2, From: 1, To: 2, Level: 1},
	{ID: 3, From: 1, To: 3, Level: 2},
	{ID: 4, From: 1, To: 6, Level: 3},
	{ID: 5, From: 1, To: 7, Level: 4},
	{ID: 6, From: 1, To: 8, Level: 5},
	{ID: 7, From: 1, To: 29, Level: 6},
	{ID: 8, From: 1, To: 30, Level: 7},
	{ID: 9, From: 1, To: 12, Level: 8},
	{ID: 10, From: 1, To: 14, Level: 9},
	{ID: 11, From: 1, To: 15, Level: 10},
	{ID: 12, From: 1, To: 18, Level: 11},
	{ID: 13, From: 1, To: 19, Level: 12},
	{ID: 14, From: 1, To: 21, Level: 13},
	{ID: 15, From: 1, To: 23, Level: 14},
	{ID: 16, From: 1, To: 24, Level: 15},
	{ID: 17, From: 1, To: 16, Level: 16},
	{ID: 18, From: 1, To: 25, Level: 17},
	{ID: 19, From: 1, To: 27, Level: 18},
	{ID: 20, From: 1, To: 28, Level: 19},
	{ID: 21, From: 1, To: 33, Level: 20},
	{ID: 22, From: 1, To: 34, Level: 21},
	{ID: 23, From: 1, To: 35, Level: 22},
	{ID: 24, From: 2, To: 4, Level: 0},
	{ID: 25, From: 2, To: 5, Level: 1},
	{ID: 26, From: 2, To: 12, Level: 2},
	{ID: 27, From: 2, To: 31, Level: 3},
	{ID: 28, From: 2, To: 32, Level: 4},
	{ID: 29, From: 2, To: 13, Level: 5},
	{ID: 30, From: 2, To: 17, Level: 6},
	{ID: 31, From: 2, To: 20, Level: 7},
	{ID: 32, From: 2, To: 22, Level: 8},
	{ID: 33, From: 2, To: 16, Level: 9},
	{ID: 34, From: 2, To: 25, Level: 10},
	{ID: 35, From: 2, To: 26, Level: 11},
	{ID: 36, From: 2, To: 28, Level: 12},
	{ID: 37, From: 3, To: 9, Level: 0},
	{ID: 38, From: 3, To: 10, Level: 1},
	{ID: 39, From: 4, To: 4, Level: 0},
	{ID: 40, From: 4, To: 5, Level: 1},
	{ID: 41, From: 5, To: 1, Level: 0},
	{ID: 42, From: 5, To: 2, Level: 1},
	{ID: 43, From: 5, To: 3, Level: 2},
	{ID: 44, From: 6, To: 31, Level: 0},
	{ID: 45, From: 6, To: 32, Level: 1},
	{ID: 46, From: 7, To: 29, Level: 0},
	{ID: 47, From: 7, To: 30, Level: 1},
}

// DefaultRoleRules are the default roles_rules links in storage order.
var DefaultRoleRules = []Link{
	{ID: 1, From: 1, To: 1, Level: 0},
	{ID: 2, From: 1, To: 2, Level: 0},
}
