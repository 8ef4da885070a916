import { isUtf8 } from 'node:buffer';
import { BadRequestException, HttpException, HttpStatus } from '@nestjs/common';
import { ErrorCode } from '@app/contracts';

/**
 * What the gateway accepts as a request body, checked once at the edge, before validation, interceptors
 * and the idempotency fingerprint see it (docs/http.md):
 * - `application/json` in UTF-8 (no other charset), at most 1 MiB, no `Content-Encoding` but `identity`;
 * - bytes that are valid UTF-8 (the decoder would otherwise replace them with U+FFFD without a word);
 * - at most MAX_JSON_DEPTH nested objects/arrays (class-transformer and JSON.stringify recurse);
 * - no string, key or value, holding a lone UTF-16 surrogate (`"\ud800"`: storing it would replace it);
 * - no key `__proto__`, `constructor` or `prototype` anywhere (nothing of the kind is a field of the API,
 *   and they are what prototype pollution is made of).
 */
export const BODY_LIMIT_BYTES = 1024 * 1024;
export const MAX_JSON_DEPTH = 32;
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const LONE_SURROGATE = /\p{Cs}/u;

export interface BodyProblem {
  field: string;
  message: string;
}

const fieldOf = (path: string) => (path.length > 200 ? `${path.slice(0, 200)}…` : path) || '(body)';

/**
 * The first thing wrong with a parsed JSON value, or undefined. Iterative (an explicit stack): a body
 * nested a million levels deep is answered, not a stack overflow. Fields are named by the keys already
 * checked, so a refused key is never echoed back.
 */
export function jsonBodyProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): BodyProblem | undefined {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { value: v, depth, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return { field: fieldOf(path), message: 'must not contain a lone UTF-16 surrogate' };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) return { field: fieldOf(path), message: `JSON nested deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, depth: depth + 1, path: `${path}[${i}]` }));
      continue;
    }
    for (const key of Object.keys(v)) {
      if (LONE_SURROGATE.test(key)) return { field: fieldOf(path), message: 'a key must not contain a lone UTF-16 surrogate' };
      if (FORBIDDEN_KEYS.has(key)) return { field: fieldOf(path ? `${path}.${key}` : key), message: `the key ${key} is not allowed` };
      stack.push({ value: (v as Record<string, unknown>)[key], depth: depth + 1, path: path ? `${path}.${key}` : key });
    }
  }
  return undefined;
}

/**
 * The same for a parsed query string: the keys (and every `a[b]` / `a.b` segment of them, so that a
 * nested query parser could never turn one into a prototype) and the values.
 */
export function queryProblem(query: Record<string, unknown>): BodyProblem | undefined {
  for (const key of Object.keys(query)) {
    const segment = key.split(/[[\].]/).find((s) => FORBIDDEN_KEYS.has(s));
    if (segment) return { field: `query.${segment}`, message: `the query parameter ${segment} is not allowed` };
  }
  const problem = jsonBodyProblem(query, 2);
  return problem && { ...problem, field: `query.${problem.field}` };
}

const invalid = (message: string, errors?: BodyProblem[]) =>
  new BadRequestException({ code: ErrorCode.VALIDATION_FAILED, message, ...(errors ? { errors } : {}) });

const unsupported = (message: string) => new HttpException({ code: ErrorCode.UNSUPPORTED_MEDIA_TYPE, message }, HttpStatus.UNSUPPORTED_MEDIA_TYPE);

/** The `charset` parameter of a Content-Type header, lower case, or undefined. */
export const charsetOf = (contentType: string | undefined): string | undefined => /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1].toLowerCase();

/**
 * A JSON request body from its bytes as sent (docs/http.md): `Content-Encoding` identity only and UTF-8 only
 * (RFC 8259 §8.1) are 415, bytes that are not valid UTF-8 (never decoded to U+FFFD) and anything but an
 * object or an array at the top level are 400. A leading byte order mark is ignored (RFC 8259 allows it),
 * an empty body is `{}`. Throws the HttpException to answer.
 */
export function parseJsonBody(bytes: Buffer, contentType: string | undefined, contentEncoding: string | undefined): unknown {
  if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity')
    throw unsupported('Content-Encoding must be identity: request bodies are not read compressed');
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8') throw unsupported('unsupported charset: JSON bodies are UTF-8');
  if (!isUtf8(bytes)) throw invalid('request body is not valid UTF-8');
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.length === 0) return {};
  const first = /^[ \t\n\r]*(.)/.exec(text)?.[1];
  try {
    if (first !== '{' && first !== '[') throw new SyntaxError('not an object or an array');
    return JSON.parse(text);
  } catch {
    throw invalid('request body is not valid JSON');
  }
}

/** The 400 for a parsed query string and body that queryProblem/jsonBodyProblem refuse, or undefined. */
export function edgeCheck(query: unknown, body: unknown): BadRequestException | undefined {
  const problem = queryProblem((query ?? {}) as Record<string, unknown>) ?? (body === undefined ? undefined : jsonBodyProblem(body));
  return problem && invalid(`${problem.field}: ${problem.message}`, [problem]);
}
