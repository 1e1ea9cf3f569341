// Every layer kind against PyTorch goldens (forward rtol 1e-4 / atol 1e-5, gradients rtol 1e-3) on the f32 interpreter.
import { describe, expect, it } from 'vitest';
import { CASES } from './cases.js';
import { buildCase } from './harness.js';
import { readFixture, fixtureFeeds } from './fixtures.js';
import { FORWARD, GRAD, mismatch } from './compare.js';
import { run } from '../../runtime/interpreter/index.js';
import { validateGraph } from '../../compiler/ir/validate.js';


describe('layer goldens (PyTorch)', () => {
  for (const c of CASES.filter((k) => k.name !== 'dmfd_stats' && k.name !== 'adam_step')) {
    it(c.name, () => {
      const f = readFixture(c.name);
      const b = buildCase(c);
      validateGraph(b.graph);
      const out = run(b.graph, fixtureFeeds(f), { dtype: 'f32' });
      const problems: string[] = [];
      let checked = 0;
      for (const [k, v] of f.tensors) {
        if (k.startsWith('out:')) {
          const got = out.get(k.slice(4));
          if (!got) { problems.push(`no output ${k}`); continue; }
          const m = mismatch(k, got, v.data, FORWARD);
          if (m) problems.push(m);
          checked++;
        } else if (k.startsWith('grad:')) {
          const got = out.get(k);
          if (!got) { problems.push(`we produce no ${k}`); continue; }
          const m = mismatch(k, got, v.data, GRAD);
          if (m) problems.push(m);
          checked++;
        }
      }
      for (const k of b.gradNames) if (!f.tensors.has(k)) problems.push(`PyTorch has no ${k}`);
      expect(problems).toEqual([]);
      expect(checked).toBeGreaterThan(1);
    });
  }
});
