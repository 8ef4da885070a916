import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web console (apps/console, built by `npm run build:console` into dist/console) served at `/`:
 * a file of the build when the path names one, index.html for any other path a browser navigates to
 * (client-side routing), and the API's own 404 (problem+json) for the paths the API, its documents and
 * its probes own. docs/console.md.
 */

/** Paths that are never the console's: their unknown paths stay the API's problem+json 404. */
const NOT_CONSOLE = /^\/(api|docs|docs-json|health|metrics)(\/|$)/i;

/** The console's policy: every script and style from this origin, no inline script, no framing. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The directory of the built console: dist/console beside the repository's (or the image's) package.json. */
export function consoleDir(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'console');
    if (dirname(dir) === dir) return join(from, 'console');
  }
}

/** What a GET of `path` answers: a file of the build, the app's index.html, or the API's 404. */
export function consoleTarget(root: string, urlPath: string): { file: string } | { notFound: true } {
  const path = urlPath.split('?')[0];
  if (NOT_CONSOLE.test(path)) return { notFound: true };
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return { notFound: true };
  }
  const full = resolve(root, `.${decoded}`);
  if (full.startsWith(root + sep) && existsSync(full) && statSync(full).isFile()) return { file: full.slice(root.length + 1) };
  // a missing asset is a 404, not the app: a stale page must not get HTML for its script
  if (/^\/assets\//.test(path) || /\.[a-z0-9]+$/i.test(path)) return { notFound: true };
  return { file: 'index.html' };
}

function securityHeaders(reply: FastifyReply): void {
  reply.header('Content-Security-Policy', CONSOLE_CSP);
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('X-Frame-Options', 'DENY');
  reply.header('Referrer-Policy', 'no-referrer');
}

/** Registers the console's routes on the gateway's Fastify (before the app is initialised). */
export async function serveConsole(fastify: FastifyInstance, root = consoleDir()): Promise<void> {
  const built = existsSync(join(root, 'index.html'));
  if (built) await fastify.register(fastifyStatic, { root, serve: false, index: false });
  const handler = (request: FastifyRequest, reply: FastifyReply) => {
    const target = consoleTarget(root, request.url);
    if ('notFound' in target) return reply.callNotFound();
    securityHeaders(reply);
    if (!built) return reply.status(503).type('text/plain; charset=utf-8').send('The web console is not built: run `npm run build:console`.\n');
    const hashed = target.file.startsWith('assets/');
    return reply.sendFile(target.file, { maxAge: hashed ? 365 * 24 * 3600 * 1000 : 0, immutable: hashed, cacheControl: true });
  };
  fastify.get('/', handler);
  fastify.get('/*', handler);
}
