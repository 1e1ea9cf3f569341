// Every error code in the sources is in the catalogue that `smcirc explain` reads, and nothing stale is.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ERROR_CODES } from '../../cli/error-catalogue.js';

const root = join(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every SMC code used in the sources has an entry, and every entry is used', () => {
  const used = new Set<string>();
  for (const dir of ['grammar', 'compiler', 'runtime', 'cli']) {
    for (const f of sources(join(root, dir))) {
      if (f.endsWith('error-catalogue.ts')) continue;
      for (const m of readFileSync(f, 'utf8').matchAll(/'(SMC\d{4})'/g)) used.add(m[1]!);
    }
  }
  expect([...used].filter((c) => !(c in ERROR_CODES))).toEqual([]);
  expect(Object.keys(ERROR_CODES).filter((c) => !used.has(c))).toEqual([]);
});
