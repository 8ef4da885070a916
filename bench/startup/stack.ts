import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

export interface StartedStack {
  child: ChildProcess;
  /** ms from spawning `npm start` to the gateway's `/health/serving` answering 200 */
  gatewayReadyMs: number;
  /** ms until every service is up as the gateway sees it (`/health/ready` 200; before it existed, `/health/serving`) */
  allReadyMs: number;
}

const status = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.status,
    () => 0,
  );

/**
 * Starts the stack as `npm start` does (scripts/start.js, each service its own process) and times it from the
 * spawn until the gateway is ready and until every service is up. `logFile`: where its output (the services'
 * log lines) is appended, so that a failure can be read afterwards; otherwise it is dropped.
 */
export async function startStack(env: NodeJS.ProcessEnv, base: string, timeoutMs = 180_000, logFile?: string): Promise<StartedStack> {
  const began = Date.now();
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [join(ROOT, 'scripts/start.js')], { cwd: ROOT, env, stdio: ['ignore', out, 'inherit'] });
  if (typeof out === 'number') closeSync(out);
  let exited = false;
  child.on('exit', () => (exited = true));
  let gatewayReadyMs: number | undefined;
  for (;;) {
    if (exited) throw new Error('npm start exited before the stack was ready');
    if (gatewayReadyMs === undefined && (await status(`${base}/health/serving`)) === 200) gatewayReadyMs = Date.now() - began;
    if (gatewayReadyMs !== undefined) {
      const services = await status(`${base}/health/ready`);
      if (services === 200 || services === 404) return { child, gatewayReadyMs, allReadyMs: services === 200 ? Date.now() - began : gatewayReadyMs };
    }
    if (Date.now() - began > timeoutMs) throw new Error(`the stack was not ready within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stopStack(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
}
