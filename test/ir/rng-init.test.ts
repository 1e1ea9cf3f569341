// Counter-based RNG (pinned bit patterns for the WGSL port) and seeded initialisation.
import { describe, expect, it } from 'vitest';
import { pcgHash, rngBits, rngUniform, streamOf } from '../../runtime/abi/rng.js';
import { initParams, initTensor } from '../../runtime/abi/init.js';
import { GraphBuilder } from '../../compiler/ir/graph.js';
import { linear, lstm } from '../../compiler/layers/index.js';
import { run } from '../../runtime/interpreter/index.js';

describe('rng', () => {
  it('pcg hash and bits are pinned', () => {
    expect(pcgHash(0)).toBe(129708002);
    expect(pcgHash(1)).toBe(2831084092);
    expect([0, 1, 2].map((i) => rngBits(42, 3, i))).toMatchSnapshot();
    expect(streamOf('weight')).toBe(streamOf('weight'));
  });
  it('uniform values lie in [0, 1) on a 2^-24 grid with a sane mean', () => {
    let s = 0;
    for (let i = 0; i < 20000; i++) {
      const u = rngUniform(1, 2, i);
      expect(u >= 0 && u < 1).toBe(true);
      expect(Number.isInteger(u * 2 ** 24)).toBe(true);
      s += u;
    }
    expect(Math.abs(s / 20000 - 0.5)).toBeLessThan(0.01);
  });
  it('the rand op fills element i with uniform(seed, stream, i)', () => {
    const g = new GraphBuilder();
    const seed = g.input('seed', []);
    g.output('r', g.rand(seed, [2, 3]));
    const r = run(g.build(), new Map([['seed', new Float32Array([5])]]), { dtype: 'f32' }).get('r')!;
    expect(Array.from(r)).toEqual([0, 1, 2, 3, 4, 5].map((i) => rngUniform(5, 0, i)));
  });
});

describe('init (reference §8)', () => {
  it('same seed → same weights; other seed → other weights; statistics follow the spec', () => {
    const g = new GraphBuilder();
    g.scoped('fc', () => linear(g, g.input('x', [1, 2, 64]), { in: 64, out: 256 }));
    g.scoped('lstm', () => lstm(g, g.input('y', [1, 2, 8]), { input: 8, hidden: 16 }));
    const a = initParams(g.params, 1111);
    const b = initParams(g.params, 1111);
    const c = initParams(g.params, 1112);
    expect(a.get('fc.weight')).toEqual(b.get('fc.weight'));
    expect(a.get('fc.weight')).not.toEqual(c.get('fc.weight'));
    const w = a.get('fc.weight')!;
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(std).toBeGreaterThan(0.019);
    expect(std).toBeLessThan(0.021);
    expect(a.get('fc.bias')!.every((v) => v === 0)).toBe(true);
    const u = a.get('lstm.weight_hh_l0')!;
    expect(Math.max(...u.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...u.map(Math.abs))).toBeGreaterThan(0.24);
    const xv = initTensor('w', [300, 100], { kind: 'xavier_uniform', fanIn: 100, fanOut: 300 }, 3);
    expect(Math.max(...xv.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 400) + 1e-7);
  });
});
