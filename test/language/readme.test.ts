// The language example in README.md must stay true: it checks with no diagnostics.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { checkSpec } from '../../compiler/check/index.js';

test('the README example spec checks clean', () => {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const block = /```\n(dim B[\s\S]*?)```/.exec(readme);
  expect(block).not.toBeNull();
  const r = checkSpec(join(import.meta.dirname, 'readme-example.smcir'), { text: block![1], withLoss: true, training: true });
  expect(r.diagnostics).toEqual([]);
  expect([...r.elaborated!.outputs.keys()]).toEqual(['pred', 'state_v']);
});
