// Preloaded into the stack's processes by a benchmark that profiles (BENCH_PROFILE, bench/gateway): the first
// SIGWINCH (not SIGUSR2: Nest's shutdown hooks stop the app on it) starts V8's CPU profiler, the next writes the
// profile to BENCH_PROFILE_DIR/<service>-<pid>[-<n>].cpuprofile, n counting the profiles after the first (read it with bench/lib/cpuprofile-top.ts or Chrome's
// DevTools). Plain JS: it is loaded by NODE_OPTIONS, before any TypeScript tooling.
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join, basename, dirname } = require('node:path');

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let running = false;
  let written = 0;
  const name = `${basename(dirname(dirname(process.argv[1] ?? 'node')))}-${process.pid}`;
  process.on('SIGWINCH', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${name}${written++ ? `-${written}` : ''}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
