import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** What a process is, from its command line: a service (`apps/<name>/src/main.js`), nats-server, ferretdb, or other. */
const kindOf = (cmd: string) =>
  /apps\/([a-z-]+)\/src\/main\.js/.exec(cmd)?.[1] ?? (/nats-server/.test(cmd) ? 'nats-server' : /ferretdb/.test(cmd) ? 'ferretdb' : 'other');

/** Every process of the machine: pid, parent, CPU seconds so far, command line. */
function processes() {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return { pid: Number(pid), ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / TICKS, cmd };
      } catch {
        return undefined;
      }
    })
    .filter((p): p is NonNullable<typeof p> => !!p);
}

/** The pids of the stack's services (a service's command line: `apps/<name>/src/main.js`). */
export const servicePids = (): number[] =>
  processes()
    .filter((p) => /apps\/[a-z-]+\/src\/main\.js/.test(p.cmd))
    .map((p) => p.pid);

/**
 * CPU seconds (user + system, from /proc) of processes summed by kind: those under `root` (its descendants), or,
 * without `root`, every service, nats-server and ferretdb process of the machine, and the machine's stolen time (`steal`).
 */
export function cpuByKind(root?: number): Record<string, number> {
  const procs = processes();
  const under = new Set(root === undefined ? procs.map((p) => p.pid) : [root]);
  for (let grew = root !== undefined; grew; ) {
    grew = false;
    for (const p of procs)
      if (!under.has(p.pid) && under.has(p.ppid)) {
        under.add(p.pid);
        grew = true;
      }
  }
  const kinds: Record<string, number> = {};
  for (const p of procs) {
    if (!under.has(p.pid) || p.pid === root) continue;
    const kind = kindOf(p.cmd);
    if (root === undefined && kind === 'other') continue;
    kinds[kind] = (kinds[kind] ?? 0) + p.cpu;
  }
  // the machine's: CPU time the hypervisor gave to others while this machine wanted it (a row with much of it ran slower)
  if (root === undefined) kinds.steal = stolenSeconds();
  return kinds;
}

/** `steal` of /proc/stat's first line, in seconds. */
function stolenSeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
  return Number(cpu[8] ?? 0) / TICKS;
}

/** CPU seconds by kind used between two `cpuByKind` readings. */
export const cpuSpent = (before: Record<string, number>, after: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));
