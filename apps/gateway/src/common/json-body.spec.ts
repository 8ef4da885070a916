import { HttpException } from '@nestjs/common';
import { charsetOf, edgeCheck, jsonBodyProblem, MAX_JSON_DEPTH, parseJsonBody, queryProblem } from './json-body';

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

describe('parseJsonBody (the only JSON parser of the gateway)', () => {
  const json = 'application/json';
  /** the status and detail of what it throws */
  const refusal = (bytes: Buffer | string, contentType = json, encoding?: string) => {
    try {
      parseJsonBody(Buffer.from(bytes), contentType, encoding);
    } catch (err) {
      const e = err as HttpException;
      return { status: e.getStatus(), message: (e.getResponse() as { message: string }).message };
    }
    return undefined;
  };

  it('parses UTF-8 JSON objects and arrays; an empty body is {}; a leading byte order mark is ignored', () => {
    expect(parseJsonBody(Buffer.from(' {"name": "Dev 🚀"}\n'), json, undefined)).toEqual({ name: 'Dev 🚀' });
    expect(parseJsonBody(Buffer.from('[1, 2]'), 'application/json; charset=UTF-8', 'identity')).toEqual([1, 2]);
    expect(parseJsonBody(Buffer.alloc(0), json, undefined)).toEqual({});
    expect(parseJsonBody(Buffer.from('\uFEFF{"a": 1}'), json, undefined)).toEqual({ a: 1 });
  });

  it('refuses a Content-Encoding but identity and a charset but UTF-8 with 415', () => {
    for (const encoding of ['gzip', 'deflate', 'br', 'x-unknown']) expect(refusal('{}', json, encoding)?.status).toBe(415);
    for (const type of ['application/json; charset=utf-16le', 'application/json;charset="latin1"', 'application/json; charset='])
      expect(refusal('{}', type)).toEqual({ status: 415, message: 'unsupported charset: JSON bodies are UTF-8' });
  });

  it('refuses bytes that are not UTF-8, invalid JSON and a top level that is no object or array with 400, echoing none of it', () => {
    expect(refusal(Buffer.from([0x7b, 0x22, 0xc3, 0x22, 0x7d]))).toEqual({ status: 400, message: 'request body is not valid UTF-8' });
    for (const body of ['{"password": "s3cret', '"s3cret"', '42', 'null', 'true', '  '])
      expect(refusal(body)).toEqual({ status: 400, message: 'request body is not valid JSON' });
  });

  it('reads the charset parameter in any case, quoted or not', () => {
    expect(charsetOf('application/json; Charset="UTF-8"')).toBe('utf-8');
    expect(charsetOf('application/json')).toBeUndefined();
  });
});

describe('edgeCheck', () => {
  it('is the 400 of the first problem of the query string, then of the body, naming the field', () => {
    expect(edgeCheck({ limit: '5' }, { name: 'x' })).toBeUndefined();
    expect(edgeCheck({}, undefined)).toBeUndefined();
    expect((edgeCheck({ __proto__x: '1', 'a.__proto__': '1' }, { __proto__: 1 })?.getResponse() as { errors: unknown }).errors).toEqual([
      { field: 'query.__proto__', message: 'the query parameter __proto__ is not allowed' },
    ]);
    expect(edgeCheck({}, JSON.parse('{"constructor": 1}'))?.getStatus()).toBe(400);
  });
});
