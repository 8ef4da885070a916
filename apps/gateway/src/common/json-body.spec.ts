import { jsonBodyProblem, MAX_JSON_DEPTH, queryProblem } from './json-body';

const nested = (depth: number) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown;

describe('jsonBodyProblem (the one check of every parsed body at the edge)', () => {
  it('accepts ordinary bodies, characters outside the BMP (surrogate pairs) included', () => {
    expect(jsonBodyProblem({ name: 'Dev 🚀 team', memberIds: ['a', 'b'], meta: { x: [1, null, true] } })).toBeUndefined();
    expect(jsonBodyProblem({})).toBeUndefined();
    expect(jsonBodyProblem(null)).toBeUndefined();
  });

  it(`accepts ${MAX_JSON_DEPTH} nested levels and refuses ${MAX_JSON_DEPTH + 1}, naming the limit`, () => {
    expect(jsonBodyProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonBodyProblem(nested(MAX_JSON_DEPTH + 1))?.message).toBe(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    expect(jsonBodyProblem({ a: { b: nested(MAX_JSON_DEPTH - 1) } })?.message).toMatch(/nested deeper/);
  });

  it('answers a body nested a million levels deep without recursing', () => {
    expect(jsonBodyProblem(nested(500_000))?.message).toMatch(/nested deeper/);
  });

  it('refuses __proto__, constructor and prototype keys at any depth (own keys, as JSON.parse makes them)', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      expect(jsonBodyProblem(JSON.parse(`{"${key}": {"polluted": true}}`))).toEqual({ field: key, message: `the key ${key} is not allowed` });
      expect(jsonBodyProblem(JSON.parse(`{"accounts": [{"email": "a@b.c", "${key}": 1}]}`))?.field).toBe(`accounts[0].${key}`);
    }
    expect(jsonBodyProblem({ name: '__proto__' })).toBeUndefined();
  });

  it('refuses a lone surrogate in a value or a key, without echoing the key', () => {
    expect(jsonBodyProblem(JSON.parse('{"email": "a\\ud800b@example.com"}'))).toEqual({ field: 'email', message: 'must not contain a lone UTF-16 surrogate' });
    expect(jsonBodyProblem(JSON.parse('{"names": ["ok", "\\udc00"]}'))?.field).toBe('names[1]');
    expect(jsonBodyProblem(JSON.parse('{"x": {"a\\ud83db": 1}}'))).toEqual({ field: 'x', message: 'a key must not contain a lone UTF-16 surrogate' });
    expect(jsonBodyProblem(JSON.parse('"\\ud83d\\ude80"'))).toBeUndefined();
  });
});

describe('queryProblem', () => {
  it('refuses a forbidden name as a key or as a segment of one; accepts the rest', () => {
    expect(queryProblem({ limit: '10', cursor: 'abc' })).toBeUndefined();
    expect(queryProblem({ __proto__x: '1', 'a[b][c]': '1' })).toBeUndefined();
    for (const key of ['__proto__', 'constructor[prototype][x]', 'a.__proto__', 'a[prototype]'])
      expect(queryProblem(Object.fromEntries([[key, '1']]))?.message).toMatch(/is not allowed/);
    expect(queryProblem({ q: ['ok', 'a\ud800'] })?.field).toBe('query.q[1]');
  });
});
