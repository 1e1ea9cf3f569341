// Property test: random mutations of valid specs never make the front end throw; it always returns diagnostics.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkSpec } from '../../compiler/check/index.js';

const specs = join(import.meta.dirname, '../../specs');
const base = readFileSync(join(specs, 'smcir.smcir'), 'utf8');
const tiny = ['T_L=4', 'd_L=8', 'T_V=6', 'd_V=3', 'T_A=5', 'd_A=2', 'hidden1=4', 'hidden2=4', 'num_layers=1', 'transformer_layers=1', 'heads=1', 'out_dim=4', 'head_hidden=4'];

const FRAGMENTS = ['(', ')', '[', ']', '{', '}', ',', '=', ':', '"', '#', '@', '-', '*', '//', 'let', 'forward', 'block', 'model', 'output', 'return', 'if', 'then', 'else', 'where', 'x', '0', '1.5e', 'Linear(', 'train {', '\n', '$', 'import "nope.smcir"', 'import "smcir.smcir"', 'const', 'dim B', ' and ', 'not '];

type Mutation = { kind: 'delete' | 'insert' | 'duplicate' | 'swapLines'; at: number; len: number; frag: number };

function mutate(text: string, muts: Mutation[]): string {
  let t = text;
  for (const m of muts) {
    const at = m.at % (t.length + 1);
    if (m.kind === 'delete') t = t.slice(0, at) + t.slice(at + (m.len % 40));
    else if (m.kind === 'insert') t = t.slice(0, at) + FRAGMENTS[m.frag % FRAGMENTS.length] + t.slice(at);
    else if (m.kind === 'duplicate') t = t.slice(0, at) + t.slice(at, at + (m.len % 80)) + t.slice(at);
    else {
      const lines = t.split('\n');
      const i = at % lines.length;
      const j = (at + m.len) % lines.length;
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      t = lines.join('\n');
    }
  }
  return t;
}

const mutation = fc.record({
  kind: fc.constantFrom<Mutation['kind']>('delete', 'insert', 'duplicate', 'swapLines'),
  at: fc.nat(),
  len: fc.nat(),
  frag: fc.nat(),
});

// Four rounds of 500 (2,000 cases in all), so that no single test blocks its worker for long.
const ROUNDS = [20261127, 20261128, 20261129, 20261130];

describe('front end under random mutation', () => {
  for (const seed of ROUNDS) {
    test(`never throws, always answers with diagnostics or a graph (seed ${seed})`, async () => {
      let withErrors = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (muts) => {
          // yield between cases: a long synchronous stretch would starve the test worker's RPC (vitest's 60 s deadline)
          await new Promise((r) => setImmediate(r));
          const text = mutate(base, muts);
          const r = checkSpec(join(specs, 'smcir.smcir'), { text, overrides: tiny, batch: 2, withLoss: true, training: true });
          expect(Array.isArray(r.diagnostics)).toBe(true);
          for (const d of r.diagnostics) {
            expect(d.code).toMatch(/^SMC\d{4}$/);
            expect(d.message.length).toBeGreaterThan(0);
          }
          // An internal error means some path threw instead of reporting: that is the bug this test hunts.
          expect(r.diagnostics.filter((d) => d.message.startsWith('internal error'))).toEqual([]);
          if (r.ok) expect(r.graph).toBeDefined();
          else withErrors++;
        }),
        { seed, numRuns: 500 },
      );
      // The mutations must actually break specs often, or the test proves little.
      expect(withErrors).toBeGreaterThan(125);
    });
  }
});
