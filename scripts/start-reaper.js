#!/usr/bin/env node
/**
 * Takes `npm start`'s children with it when scripts/start.js dies, however it dies (SIGKILL included).
 *
 * start.js spawns this in a session of its own, with stdin a pipe from start.js, and writes one line per child:
 * `+<pid> <service|infra>` when it has spawned it, `-<pid>` when it has exited. Only the kernel holds the
 * other end of the pipe besides start.js, so when start.js dies the pipe is closed and stdin ends; then this
 * stops the children still listed, each by its process group (start.js spawns them detached): the services
 * first, then the servers (nats-server, FerretDB, docker compose), SIGTERM and SIGKILL after 5 s; and exits.
 * After a normal stop start.js has stopped and unlisted them itself, and the end of the pipe finds nothing.
 */
'use strict';

const GRACE_MS = 5000;
const children = new Map(); // pid → 'service' | 'infra'
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};
const signal = (pid, sig) => {
  for (const target of [-pid, pid]) {
    try {
      return process.kill(target, sig);
    } catch {
      // no such process group (or process): try the process itself, then give up
    }
  }
};

async function reap() {
  for (const kind of ['service', 'infra']) {
    const pids = [...children].filter(([, k]) => k === kind).map(([pid]) => pid);
    pids.forEach((pid) => signal(pid, 'SIGTERM'));
    const deadline = Date.now() + GRACE_MS;
    while (pids.some(alive) && Date.now() < deadline) await sleep(100);
    pids.filter(alive).forEach((pid) => signal(pid, 'SIGKILL'));
  }
  process.exit(0);
}

// the terminal's Ctrl-C / hang-up are for start.js, which then stops everything itself
for (const sig of ['SIGINT', 'SIGHUP']) process.on(sig, () => undefined);

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (pending + chunk).split('\n');
  pending = lines.pop();
  for (const line of lines) {
    const m = /^([+-])(\d+)(?: (service|infra))?$/.exec(line);
    if (!m) continue;
    if (m[1] === '+') children.set(Number(m[2]), m[3] || 'service');
    else children.delete(Number(m[2]));
  }
});
process.stdin.on('end', () => void reap());
process.stdin.on('error', () => void reap());
