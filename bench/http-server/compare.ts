/**
 * bench/http-server/compare: the same requests to the gateway on Express and on Fastify (harness.ts), and
 * every difference in what comes back: status, headers (but the ones that differ per response: Date, a
 * generated X-Request-Id, Keep-Alive, Connection) and body. Good and bad requests of the edge (docs/http.md).
 * Identity is the stub of harness.ts; the other services do not run, so routes that need them answer 503.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/http-server/compare.ts
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { startBench, TOKEN } from './harness';

interface Probe {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

const auth = { Authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'Content-Type': 'application/json' };
const org = '0f8fad5b-d9cb-469f-a165-70867728950e';
const PROBES: Probe[] = [
  { name: 'health', path: '/health' },
  { name: 'health/serving', path: '/health/serving' },
  { name: 'health/ready (services down)', path: '/health/ready' },
  { name: 'docs-json', path: '/docs-json' },
  { name: 'docs UI', path: '/docs' },
  { name: 'me', path: '/api/v1/me', headers: auth },
  { name: 'me with a given request id', path: '/api/v1/me', headers: { ...auth, 'X-Request-Id': 'given-id-1' } },
  { name: 'me with Token scheme', path: '/api/v1/me', headers: { Authorization: `Token ${TOKEN}` } },
  { name: 'me, no token', path: '/api/v1/me' },
  { name: 'me, unknown token', path: '/api/v1/me', headers: { Authorization: 'Bearer ppt_nope' } },
  { name: 'me, trailing slash', path: '/api/v1/me/', headers: auth },
  { name: 'me, upper case path', path: '/API/V1/ME', headers: auth },
  { name: 'HEAD me', method: 'HEAD', path: '/api/v1/me', headers: auth },
  { name: 'HEAD health', method: 'HEAD', path: '/health' },
  { name: 'OPTIONS me', method: 'OPTIONS', path: '/api/v1/me', headers: auth },
  { name: 'unknown route', path: '/api/v1/nothing-here', headers: auth },
  { name: 'unknown route outside the prefix', path: '/nothing-here' },
  { name: 'unknown method', method: 'PROPFIND', path: '/api/v1/me', headers: auth },
  { name: 'bad percent-encoding in a path parameter', path: `/api/v1/organizations/%E0%A4%A/groups`, headers: auth },
  { name: 'a long path parameter', path: `/api/v1/organizations/${'a'.repeat(300)}/groups`, headers: auth },
  { name: 'a non-uuid path parameter', path: '/api/v1/organizations/not-a-uuid/groups', headers: auth },
  { name: 'query __proto__', path: '/api/v1/me?__proto__=x', headers: auth },
  { name: 'query a[b][c]', path: `/api/v1/organizations/${org}/people?a[b][c]=1`, headers: auth },
  { name: 'query with a bad escape', path: '/api/v1/me?x=%E0%A4%A', headers: auth },
  { name: 'query with a lone surrogate', path: '/api/v1/me?x=%ED%A0%80', headers: auth },
  { name: 'GET with a JSON body holding __proto__', path: '/api/v1/me', headers: json, body: '{"__proto__": {"x": 1}}' },
  { name: 'POST valid body (membership down: 503)', method: 'POST', path: '/api/v1/organizations', headers: json, body: '{"name": "Org"}' },
  { name: 'POST invalid JSON', method: 'POST', path: '/api/v1/organizations', headers: json, body: '{"name": ' },
  { name: 'POST a JSON string', method: 'POST', path: '/api/v1/organizations', headers: json, body: '"Org"' },
  { name: 'POST JSON with a byte order mark', method: 'POST', path: '/api/v1/organizations', headers: json, body: '\uFEFF{"name": "Org"}' },
  { name: 'POST empty body, Content-Type JSON', method: 'POST', path: '/api/v1/organizations', headers: json, body: '' },
  { name: 'POST no body at all', method: 'POST', path: '/api/v1/organizations', headers: auth },
  { name: 'POST text/plain body', method: 'POST', path: '/api/v1/organizations', headers: { ...auth, 'Content-Type': 'text/plain' }, body: '{"name": "Org"}' },
  { name: 'POST body without Content-Type', method: 'POST', path: '/api/v1/organizations', headers: auth, body: '{"name": "Org"}' },
  {
    name: 'POST application/json-patch+json',
    method: 'POST',
    path: '/api/v1/organizations',
    headers: { ...auth, 'Content-Type': 'application/json-patch+json' },
    body: '{"name": "Org"}',
  },
  {
    name: 'POST APPLICATION/JSON upper case',
    method: 'POST',
    path: '/api/v1/organizations',
    headers: { ...auth, 'Content-Type': 'APPLICATION/JSON' },
    body: '{"name": "Org"}',
  },
  {
    name: 'POST a malformed Content-Type',
    method: 'POST',
    path: '/api/v1/organizations',
    headers: { ...auth, 'Content-Type': 'json' },
    body: '{"name": "Org"}',
  },
  {
    name: 'POST charset=utf-16le',
    method: 'POST',
    path: '/api/v1/organizations',
    headers: { ...json, 'Content-Type': 'application/json; charset=utf-16le' },
    body: Buffer.from('{"name": "Org"}', 'utf16le'),
  },
  {
    name: 'POST charset="UTF-8"',
    method: 'POST',
    path: '/api/v1/organizations',
    headers: { ...json, 'Content-Type': 'application/json; charset="UTF-8"' },
    body: '{"name": "Org"}',
  },
  {
    name: 'POST charset=latin1',
    method: 'POST',
    path: '/api/v1/organizations',
    headers: { ...json, 'Content-Type': 'application/json; charset=latin1' },
    body: '{"name": "Org"}',
  },
  { name: 'POST gzip', method: 'POST', path: '/api/v1/organizations', headers: { ...json, 'Content-Encoding': 'gzip' }, body: gzipSync('{"name": "Org"}') },
  {
    name: 'POST Content-Encoding identity',
    method: 'POST',
    path: '/api/v1/organizations',
    headers: { ...json, 'Content-Encoding': 'identity' },
    body: '{"name": "Org"}',
  },
  {
    name: 'POST invalid UTF-8',
    method: 'POST',
    path: '/api/v1/organizations',
    headers: json,
    body: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d]),
  },
  { name: 'POST over 1 MiB', method: 'POST', path: '/api/v1/organizations', headers: json, body: `{"name": "${'x'.repeat(1024 * 1024)}"}` },
  { name: 'POST nested 33 levels', method: 'POST', path: '/api/v1/organizations', headers: json, body: `${'['.repeat(33)}${']'.repeat(33)}` },
  { name: 'POST __proto__ key', method: 'POST', path: '/api/v1/organizations', headers: json, body: '{"name": "Org", "__proto__": {"x": 1}}' },
  { name: 'POST lone surrogate', method: 'POST', path: '/api/v1/organizations', headers: json, body: '{"name": "a\\ud800"}' },
  { name: 'POST unknown field', method: 'POST', path: '/api/v1/organizations', headers: json, body: '{"name": "Org", "extra": 1}' },
  { name: 'POST bad Idempotency-Key', method: 'POST', path: '/api/v1/organizations', headers: { ...json, 'Idempotency-Key': 'é' }, body: '{"name": "Org"}' },
  { name: 'PATCH me (identity stub has no change-profile: 503)', method: 'PATCH', path: '/api/v1/me', headers: json, body: '{"name": "New"}' },
  { name: 'DELETE a group (membership down)', method: 'DELETE', path: `/api/v1/organizations/${org}/groups/${org}`, headers: auth },
  { name: 'login without a body', method: 'POST', path: '/api/v1/auth/login', headers: json, body: '{}' },
];

const VARYING = new Set(['date', 'keep-alive', 'connection', 'etag']);

/** node:http, not fetch: a GET may carry a body, and nothing is added to the request */
const request = (url: string, p: Probe) =>
  new Promise<{ status: number; headers: Record<string, string>; text: string }>((resolve, reject) => {
    const length = p.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(p.body)) };
    const req = http.request(url, { method: p.method ?? 'GET', headers: { ...length, ...p.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(p.body);
  });

async function send(base: string, p: Probe): Promise<{ status: number; headers: Record<string, string>; body: string; etag?: string }> {
  const res = await request(`${base}${p.path}`, p);
  const headers = Object.fromEntries(Object.entries(res.headers).filter(([k]) => !VARYING.has(k)));
  if (!p.headers?.['X-Request-Id'] && headers['x-request-id']) headers['x-request-id'] = '(generated)';
  if (p.path === '/docs') return { status: res.status, headers: { 'content-type': headers['content-type'] }, body: res.text.length > 0 ? 'html' : '' };
  return { status: res.status, headers, body: res.text, etag: res.headers.etag };
}

async function main() {
  const { gateways, stop } = await startBench();
  let differences = 0;
  try {
    for (const p of PROBES) {
      const [e, f] = [await send(gateways.express.base, p), await send(gateways.fastify.base, p)];
      const diffs: string[] = [];
      if (e.status !== f.status) diffs.push(`status ${e.status} -> ${f.status}`);
      for (const k of new Set([...Object.keys(e.headers), ...Object.keys(f.headers)]))
        if (e.headers[k] !== f.headers[k]) diffs.push(`${k}: ${e.headers[k] ?? '(none)'} -> ${f.headers[k] ?? '(none)'}`);
      if (e.body !== f.body) diffs.push(`body ${e.body.slice(0, 300)} -> ${f.body.slice(0, 300)}`);
      differences += diffs.length;
      process.stdout.write(`${diffs.length ? 'DIFF' : 'same'}  ${p.name} (${f.status}${e.etag ? `; Express sent ETag ${e.etag}` : ''})\n`);
      for (const d of diffs) process.stdout.write(`        ${d}\n`);
    }
  } finally {
    await stop();
  }
  process.stdout.write(`\n${differences} difference(s) over ${PROBES.length} requests\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
