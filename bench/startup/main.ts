/**
 * bench/startup: how long `npm start` takes until the stack answers, started as a user starts it:
 * scripts/start.js with its own nats-server and FerretDB under a fresh DATA_DIR (MONGO_URL / NATS_URL when
 * set). A first start (empty data; builds dist/ when the launcher does) and then a second start with that data
 * present, the figure the target is about (≤ 8 s). Each is timed from spawning the launcher to the gateway's
 * `/health/serving` and to every service being up (`/health/ready`).
 *
 *   npm run bench:startup [-- starts=2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../libs/testing/src/local-servers';
import { startStack, stopStack } from './stack';

async function main() {
  const starts = Math.max(2, Number(process.argv[2] ?? 2));
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, GATEWAY_PORT: String(port), QUIET: '1' };
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`.padStart(8);
  try {
    process.stdout.write(`start                         gateway ready   all services up\n`);
    for (let i = 0; i < starts; i++) {
      const stack = await startStack(env, `http://127.0.0.1:${port}`);
      await stopStack(stack.child);
      const label = i === 0 ? 'first (empty DATA_DIR)' : `warm #${i} (data present)`;
      process.stdout.write(`${label.padEnd(30)}${seconds(stack.gatewayReadyMs)}${seconds(stack.allReadyMs).padStart(18)}\n`);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
