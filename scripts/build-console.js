#!/usr/bin/env node
/**
 * Builds the web console (apps/console, Vite) into dist/console when its sources are newer than the build:
 * `npm run build:console`, `npm start` (scripts/start.js) and the console's browser tests call it.
 * `--force` builds anyway. docs/console.md.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SOURCES = path.join(ROOT, 'apps', 'console');
const BUILT = path.join(ROOT, 'dist', 'console', 'index.html');

/** The newest modification time under `dir` (0 when it does not exist). */
function newest(dir) {
  if (!fs.existsSync(dir)) return 0;
  const stat = fs.statSync(dir);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(dir).reduce((max, name) => Math.max(max, newest(path.join(dir, name))), stat.mtimeMs);
}

/** Whether the build is missing or older than a source (or package-lock.json, for a changed Vite/React). */
function consoleBuildNeeded() {
  if (!fs.existsSync(BUILT)) return true;
  const built = fs.statSync(BUILT).mtimeMs;
  return newest(SOURCES) > built || newest(path.join(ROOT, 'package-lock.json')) > built;
}

/** Builds when needed (or when `force`); throws with Vite's output when the build fails. Returns whether it built. */
function buildConsole({ force = false, quiet = false } = {}) {
  if (!force && !consoleBuildNeeded()) return false;
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', path.join(SOURCES, 'vite.config.ts'), '--logLevel', quiet ? 'error' : 'info'], {
    cwd: ROOT,
    stdio: quiet ? 'pipe' : 'inherit',
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`the console build failed (vite build exited ${r.status ?? r.signal})\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return true;
}

module.exports = { buildConsole, consoleBuildNeeded };

if (require.main === module) {
  try {
    buildConsole({ force: process.argv.includes('--force') });
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
