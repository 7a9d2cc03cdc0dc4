#!/usr/bin/env python3
"""Writes testdata/decide_cases.json: random RBAC scenarios with the outcome computed by a literal, set-based
re-statement of security.md 5.4-5.5 over a concrete universe of existing items. The Go engine, which never
sees the universe, must agree with it. Usage (from internal/rbac): python3 testdata/gen_decide_cases.py
"""
import json
import random

rnd = random.Random(4147)
USERS = ['1', '2', '5', '100']
AGENTS = ['000', '001', '002', '003']
GROUPS = {'web': ['001', '002'], 'db': ['002', '003'], 'empty': []}
ALL = {'user:id': USERS, 'agent:id': AGENTS, 'role:id': ['1', '2']}
VALUES = {'user:id': USERS + ['999', '*'], 'agent:id': AGENTS + ['404', '*', '0*'], 'role:id': ['1', '2', '*'],
          'agent:group': list(GROUPS) + ['*'], '*:*': ['*', 'x']}
ACTIONS = ['a:x', 'b:x']


def rand_resource():
    t = rnd.choice(list(VALUES))
    return t + ':' + rnd.choice(VALUES[t])


def flatten(roles):
    out = {}
    for role in roles:
        for pol in role:
            for action in pol['actions']:
                table = out.setdefault(action, {})
                for res in pol['resources']:
                    parts = ['*:*:*'] if res == '*' else res.split('&')
                    table.pop(parts[0], None)
                    segs = parts[0].split(':')
                    if segs[-1] == '*':
                        base = ':'.join(segs[:-1])
                        for key in list(table):
                            if key.startswith(base) or key.startswith('agent:group'):
                                del table[key]
                    table[parts[0]] = pol['effect']
    return out


def expand(res):
    typ, val = res.rsplit(':', 1)
    if val == '*':
        if typ in ('agent:id', 'agent:group'):
            return set(AGENTS)
        if typ == '*:*':
            return {'*'}
        return set(ALL.get(typ, []))
    if typ == 'agent:group':
        return set(GROUPS.get(val, []))
    return {val}


def decide(processed, mode, actions, templates, ids):
    required = {}   # type -> set of values
    targets = []    # (type, param or '*')
    add_denied = True
    for typ, param, value in templates:
        if param is None:
            required.setdefault(typ, set()).add(value)
            targets.append((typ, '*'))
            add_denied = True
        elif param in ids:
            required.setdefault(typ, set()).update(ids[param])
            targets.append((typ, param))
            add_denied = True
        else:
            required.setdefault(typ, set()).add('*')
            targets.append((typ, param))
            add_denied = False
    allow = {}
    for action in actions:
        if mode == 'black':
            for typ, vals in required.items():
                for v in vals:
                    if typ == '*:*':
                        allow['*:*'] = {'*'}
                    else:
                        allow.setdefault(typ, set()).update(expand(typ + ':' + v))
        for res, effect in processed.get(action, {}).items():
            ident = res.rsplit(':', 1)[0]
            if ident == 'agent:group':
                ident = 'agent:id'
            wild = res.rsplit(':', 1)[1] == '*'
            e = expand(res)
            for v in required.get(ident, ()):
                if wild and v != '*':
                    e |= expand(ident + ':' + v)
                cur = allow.setdefault(ident, set())
                sel = e if v == '*' else e & {v}
                if effect == 'allow':
                    cur |= sel
                else:
                    cur -= sel
    result = {'forbidden': False, 'denied_type': '', 'skip': False, 'targets': {}}
    for typ, param in targets:
        a = allow.get(typ, set())
        supplied = param != '*' and param in ids
        denied = (not a and supplied and len(ids[param]) > 0) or (param == '*' and not a)
        if denied:
            if add_denied:
                return {'forbidden': True, 'denied_type': typ, 'skip': False, 'targets': {}}
            if param == '*':
                result['skip'] = True
            else:
                result['targets'][param] = {'allowed': []}
            continue
        if param == '*':
            continue
        if supplied:
            result['targets'][param] = {'allowed': [v for v in ids[param] if v in a],
                                        'denied': sorted(set(ids[param]) - a) if add_denied else []}
        else:
            result['targets'][param] = {'listed': sorted(a & set(ALL[typ]))}
    return result


TEMPLATES = [
    [('user:id', 'user_ids', None)],
    [('agent:id', 'agents', None)],
    [('*:*', None, '*')],
    [('user:id', 'user_id', None), ('role:id', 'role_ids', None)],
    [('role:id', 'role_ids', None), ('*:*', None, '*')],
    [('*:*', None, '*'), ('user:id', 'user_ids', None)],
]
cases = []
for n in range(700):
    roles = []
    for _ in range(rnd.randint(0, 3)):
        role = []
        for _ in range(rnd.randint(1, 3)):
            role.append({'actions': rnd.sample(ACTIONS, rnd.randint(1, 2)),
                         'resources': [rand_resource() for _ in range(rnd.randint(1, 3))],
                         'effect': rnd.choice(['allow', 'allow', 'deny'])})
        roles.append(role)
    mode = rnd.choice(['white', 'black'])
    actions = rnd.choice([['a:x'], ['a:x'], ['a:x', 'b:x']])
    templates = rnd.choice(TEMPLATES)
    ids = {}
    for typ, param, _ in templates:
        if param and rnd.random() < 0.6:
            pool = VALUES[typ][:-1] if typ != 'agent:id' else AGENTS + ['404', '0*']
            pool = [p for p in pool if p != '*']
            ids[param] = rnd.sample(pool, rnd.randint(0, min(3, len(pool))))
    processed = flatten(roles)
    cases.append({'roles': roles, 'mode': mode, 'actions': actions,
                  'templates': [(t, p or '', v or '') for t, p, v in templates], 'ids': ids,
                  'want': decide(processed, mode, actions, templates, ids)})
json.dump({'users': USERS, 'agents': AGENTS, 'groups': GROUPS, 'cases': cases}, open('testdata/decide_cases.json', 'w'))
