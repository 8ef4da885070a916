import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

/** The services' sources (not their specs): what they import is what they depend on. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(path);
    return /\.tsx?$/.test(e.name) && !/\.(spec|int-spec|e2e-spec)\.tsx?$/.test(e.name) ? [path] : [];
  });
}

describe('a service takes small providers, not the infrastructure bag', () => {
  it('no file under apps/ (specs aside) names Infrastructure or INFRA: controllers and providers inject what they use (providers.ts)', () => {
    const offenders = sources(join(ROOT, 'apps')).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (/\b(Infrastructure|INFRA)\b/.test(line) ? [`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(offenders).toEqual([]);
  });
});
