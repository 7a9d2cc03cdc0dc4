#!/usr/bin/env python3
"""Writes golden data for the RBAC tests from a factory rbac.db.

Usage (from internal/rbac):
  python3 testdata/gen_golden.py ../../../shared/fixtures/wazuh-4.14.7-factory/api/configuration/security/rbac.db

Outputs:
  testdata/factory_roles.json       roles with their policies (role-policy level order) and security rules
  testdata/processed_<role>.json    the processed policies of a token holding only that role, as the
                                    API serialises them (json.dumps with its default separators)
  testdata/processed_all_roles.json the same for a token holding roles 1..7 in id order, black mode
The flattening below is an independent re-statement of security.md section 5.4, used as an oracle.
"""
import json
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1])
roles = []
for rid, name in db.execute('SELECT id, name FROM roles ORDER BY id'):
    pols = []
    for pid, pname, ptext in db.execute(
            'SELECT p.id, p.name, p.policy FROM roles_policies rp JOIN policies p ON p.id = rp.policy_id '
            'WHERE rp.role_id = ? ORDER BY rp.level, rp.id', (rid,)):
        body = json.loads(ptext)
        pols.append({'id': pid, 'name': pname, 'actions': body['actions'], 'resources': body['resources'],
                     'effect': body['effect']})
    rules = [{'id': i, 'rule': json.loads(t)} for i, t in db.execute(
        'SELECT r.id, r.rule FROM roles_rules rr JOIN rules r ON r.id = rr.rule_id WHERE rr.role_id = ? '
        'ORDER BY rr.id', (rid,))]
    roles.append({'id': rid, 'name': name, 'policies': pols, 'rules': rules})
with open('testdata/factory_roles.json', 'w') as f:
    json.dump(roles, f, indent=1)
    f.write('\n')


def flatten(token_roles, mode):
    out = {}
    for role in token_roles:
        for pol in role['policies']:
            for action in pol['actions']:
                table = out.setdefault(action, {})
                for res in pol['resources']:
                    parts = ['*:*:*'] if res == '*' else res.split('&')
                    if len(parts) > 1:
                        for key in list(table):
                            old = key.split('&')
                            if len(old) == len(parts) and all(
                                    n.split(':')[-1] == '*' or o == n for o, n in zip(old, parts)):
                                del table[key]
                    else:
                        table.pop(parts[0], None)
                        segs = parts[0].split(':')
                        if segs[-1] == '*':
                            base = ':'.join(segs[:-1]) if len(segs) > 1 else '*:*:*'
                            for key in list(table):
                                if '&' not in key and (key.startswith(base) or key.startswith('agent:group')):
                                    del table[key]
                    table['&'.join(parts)] = pol['effect']
    out['rbac_mode'] = mode
    return out


for role in roles:
    with open('testdata/processed_%s.json' % role['name'], 'w') as f:
        f.write(json.dumps(flatten([role], 'white')))
with open('testdata/processed_all_roles.json', 'w') as f:
    f.write(json.dumps(flatten(roles, 'black')))
