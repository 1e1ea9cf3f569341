// Golden diagnostics: every folder under test/fixtures/bad-specs holds a broken spec (main.smcir, optional
// set.txt with --set overrides); the printed diagnostics must match the committed `expected.txt`.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkSpec } from '../../compiler/check/index.js';
import { formatDiagnostic } from '../../grammar/diagnostics.js';

const root = join(import.meta.dirname, '../fixtures/bad-specs');
const cases = readdirSync(root).filter((d) => existsSync(join(root, d, 'main.smcir'))).sort();

function render(dir: string): string {
  const setFile = join(dir, 'set.txt');
  const overrides = existsSync(setFile) ? readFileSync(setFile, 'utf8').split('\n').filter(Boolean) : [];
  const r = checkSpec(join(dir, 'main.smcir'), { overrides, withLoss: true, training: true });
  const sources = new Map([...r.program.sources].map(([k, v]) => [relative(dir, k), v]));
  return r.diagnostics
    .map((d) => formatDiagnostic(d.span ? { ...d, span: { ...d.span, file: d.span.file.startsWith('<') ? d.span.file : relative(dir, d.span.file) } } : d, sources))
    .join('\n') + '\n';
}

describe('bad specs give their committed diagnostics', () => {
  test('there are at least 20 kinds', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });
  for (const name of cases) {
    test(name, async () => {
      const text = render(join(root, name));
      expect(text.trim().length, 'a bad spec must produce a diagnostic').toBeGreaterThan(0);
      await expect(text).toMatchFileSnapshot(join(root, name, 'expected.txt'));
    });
  }
});
