import http from 'node:http';
import { PerformanceObserver } from 'node:perf_hooks';

export interface LoadResult {
  name: string;
  requests: number;
  errors: number;
  /** responses by HTTP status */
  statuses?: Record<string, number>;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** response body bytes, on average */
  bodyBytes: number;
  /** the body's chunks ('data' events) per response, on average: how many pieces this client read it in */
  chunks: number;
  /** milliseconds this process spent in garbage collection per second of the run (the load generator's own cost) */
  gcMsPerSecond: number;
  /** this process's V8 heap in use at the end of the run, MB */
  heapMb: number;
  /** every request's latency, ms, sorted */
  latencies: number[];
}

export const percentile = (sorted: number[], p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

export interface LoadOptions {
  method?: string;
  /** the JSON body of the `worker`-th loop's `n`-th request */
  body?: (worker: number, n: number) => unknown;
  /** the URL of the `worker`-th loop, when each loop has its own */
  url?: (worker: number) => string;
}

/** `concurrency` keep-alive loops sending the same request (a GET by default) for `seconds`; latencies in milliseconds. */
export async function load(
  name: string,
  url: string,
  headers: Record<string, string>,
  concurrency: number,
  seconds: number,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let bytes = 0;
  let chunks = 0;
  const deadline = Date.now() + seconds * 1000;
  const statuses: Record<string, number> = {};
  const once = (worker: number, n: number) =>
    new Promise<void>((resolve) => {
      const body = options.body ? JSON.stringify(options.body(worker, n)) : undefined;
      const start = process.hrtime.bigint();
      const req = http.request(
        options.url?.(worker) ?? url,
        { agent, method: options.method ?? 'GET', headers: body ? { ...headers, 'Content-Type': 'application/json' } : headers },
        (res) => {
          res.on('data', (chunk: Buffer) => ((bytes += chunk.length), chunks++));
          res.on('end', () => {
            latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
            if (res.statusCode !== 200) errors++;
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', () => (errors++, resolve()));
      req.end(body);
    });
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  const began = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let n = 0; Date.now() < deadline; n++) await once(worker, n);
    }),
  );
  const elapsed = (Date.now() - began) / 1000;
  gc.disconnect();
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    name,
    requests: latencies.length,
    errors,
    statuses,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    bodyBytes: latencies.length ? bytes / latencies.length : 0,
    chunks: latencies.length ? chunks / latencies.length : 0,
    gcMsPerSecond: gcMs / elapsed,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
    latencies,
  };
}

/** Runs of the same request (e.g. slices of a row measured in turns with another) as one result. */
export function mergeResults(name: string, parts: LoadResult[]): LoadResult {
  const sum = (f: (r: LoadResult) => number) => parts.reduce((s, r) => s + f(r), 0);
  const latencies = parts.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = sum((r) => r.seconds);
  const statuses: Record<string, number> = {};
  for (const r of parts) for (const [status, n] of Object.entries(r.statuses ?? {})) statuses[status] = (statuses[status] ?? 0) + n;
  const requests = latencies.length;
  return {
    name,
    requests,
    errors: sum((r) => r.errors),
    statuses,
    seconds,
    rps: requests / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    bodyBytes: requests ? sum((r) => r.bodyBytes * r.requests) / requests : 0,
    chunks: requests ? sum((r) => r.chunks * r.requests) / requests : 0,
    gcMsPerSecond: sum((r) => r.gcMsPerSecond * r.seconds) / seconds,
    heapMb: parts[parts.length - 1].heapMb,
    latencies,
  };
}

export function printTable(rows: LoadResult[]): void {
  const fmt = (n: number, d = 1) => n.toFixed(d).padStart(9);
  process.stdout.write(
    `${'scenario'.padEnd(34)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(9)}${'body B'.padStart(9)}${'chunks'.padStart(9)}${'gc ms/s'.padStart(9)}${'heap MB'.padStart(9)}\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `${r.name.padEnd(34)}${fmt(r.rps, 0)}${fmt(r.p50, 2)}${fmt(r.p99, 2)}${String(r.errors).padStart(9)}${fmt(r.bodyBytes, 0)}${fmt(r.chunks, 2)}${fmt(r.gcMsPerSecond, 0)}${fmt(r.heapMb, 0)}\n`,
    );
}
