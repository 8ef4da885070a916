import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/**
 * The console's API types are generated from the gateway's OpenAPI document, never edited by hand. The
 * generator runs in its own Node process (openapi-typescript loads ES modules that jest's CommonJS runtime cannot).
 */
describe('the console API client types (apps/console/src/api/schema.d.ts)', () => {
  it('are what the current gateway generates (run `npm run console:client` after changing the API)', () => {
    const generated = execFileSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'scripts/console-client.ts', '--stdout'],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    expect(readFileSync(join(ROOT, 'apps/console/src/api/schema.d.ts'), 'utf8')).toBe(generated);
  }, 120_000);
});
