/**
 * Where a V8 CPU profile (`.cpuprofile`, e.g. from bench/gateway's BENCH_PROFILE) spent its time: the functions
 * with the most self time and the most total time (self plus callees, each function counted once per sample).
 *
 *   npx ts-node --transpile-only bench/lib/cpuprofile-top.ts <file.cpuprofile> [rows=30]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const [file, rowsArg] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[] };
const rows = Number(rowsArg ?? 30);
const parent = new Map<number, number>();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: Node) => {
  const url = n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^.*\/work\/[^/]+\//, '');
  return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
};
const self = new Map<string, number>();
const total = new Map<string, number>();
for (const s of profile.samples) {
  const leaf = byId.get(s)!;
  self.set(label(leaf), (self.get(label(leaf)) ?? 0) + 1);
  const seen = new Set<string>();
  for (let id: number | undefined = s; id !== undefined; id = parent.get(id)) seen.add(label(byId.get(id)!));
  for (const l of seen) total.set(l, (total.get(l) ?? 0) + 1);
}
const n = profile.samples.length;
const print = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title} (${n} samples)\n`);
  for (const [l, c] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows)) process.stdout.write(`${((100 * c) / n).toFixed(1).padStart(6)} %  ${l}\n`);
};
print('self', self);
print('total', total);
