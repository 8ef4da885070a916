import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSOLE_CSP, consoleDir, consoleTarget } from './console-files';

describe('consoleTarget: what a GET of a path answers when the console is served at /', () => {
  const root = mkdtempSync(join(tmpdir(), 'console-files-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), '');

  it('a file of the build is that file; a client-side route is index.html', () => {
    expect(consoleTarget(root, '/')).toEqual({ file: 'index.html' });
    expect(consoleTarget(root, '/assets/index-abc.js')).toEqual({ file: 'assets/index-abc.js' });
    expect(consoleTarget(root, '/o/acme/people?x=1')).toEqual({ file: 'index.html' });
    expect(consoleTarget(root, '/o/acme/settings/roles')).toEqual({ file: 'index.html' });
  });

  it('the paths of the API, its documents, probes and metrics stay the API 404; so do missing files and paths out of the build', () => {
    for (const path of ['/api/v1/nothing', '/API/V1/x', '/api', '/docs', '/docs-json', '/docs/static/x.js', '/health/nope', '/metrics', '/METRICS'])
      expect(consoleTarget(root, path)).toEqual({ notFound: true });
    for (const path of ['/assets/missing.js', '/favicon.ico', '/%E0%A4%A', '/%2e%2e/package.json'])
      expect(consoleTarget(root, path)).toEqual({ notFound: true });
    // a path out of the build never reaches a file there: at most the app
    for (const path of ['/%2e%2e/%2e%2e/etc/passwd', '/../../etc/passwd']) expect(consoleTarget(root, path)).toEqual({ file: 'index.html' });
  });

  it('the policy allows no inline script and no framing; the build is looked for beside package.json', () => {
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect(consoleDir(__dirname)).toBe(join(__dirname, '../../../../dist/console'));
  });
});
