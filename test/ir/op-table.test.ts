// Walks the elementwise op table (compiler/ops): for every op, the graph interpreter and the kernel reference agree
// on sample points, its VJP matches central differences in f64 (or it passes no gradient, as its record says), the
// checker exposes exactly the `spec` ops with the record's doc, fusion folds exactly the `epilogue` ops into a
// matmul, and a record without a VJP or a WGSL form (or a routine without a lowering) does not compile.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../compiler/ir/graph.js';
import { gradients, passesGradient } from '../../compiler/autodiff.js';
import { BINARY, BINARY_OPS, SPEC_UNARY_OPS, UNARY, UNARY_OPS, erf } from '../../compiler/ops/index.js';
import { bin, load, un, type ExprKernel } from '../../compiler/kernels/ir.js';
import { evalKernel, type TensorEnv } from '../../compiler/kernels/reference.js';
import { lowerGraphToKernels } from '../../compiler/passes/lower-to-kernels.js';
import { FUNCTIONS } from '../../compiler/check/builtins.js';
import { run } from '../../runtime/interpreter/index.js';
import { fdCheck, randn } from '../helpers/fd.js';
import { SAMPLES } from '../helpers/op-samples.js';
import '../../compiler/ir/routines/index.js';

const interpret = (build: (g: GraphBuilder, xs: number[]) => number, inputs: Float64Array[], dtype: 'f32' | 'f64'): Float64Array | Float32Array => {
  const g = new GraphBuilder();
  const xs = inputs.map((v, i) => g.input(`x${i}`, [v.length]));
  g.output('y', build(g, xs));
  return run(g.build(), new Map(inputs.map((v, i) => [`x${i}`, v])), { dtype }).get('y')!;
};

const kernelRef = (expr: ExprKernel['outputs'][0]['expr'], inputs: Float64Array[]): Float32Array => {
  const n = inputs[0]!.length;
  const k: ExprKernel = { kind: 'expr', name: 'op', shape: [n], inputs: inputs.map((_, i) => ({ name: `x${i}`, size: n })), outputs: [{ name: 'y', size: n, expr }] };
  const env: TensorEnv = new Map(inputs.map((v, i) => [`x${i}`, Float32Array.from(v)]));
  evalKernel(k, env);
  return env.get('y')!;
};

/** Values bounded away from 0 (kinks of abs, relu, sign) and positive where the op needs it. */
const awayFromZero = (n: number, seed: number, positive: boolean): Float64Array =>
  randn(n, seed).map((v) => (positive ? 0.3 + Math.abs(v) : Math.sign(v || 1) * (0.2 + Math.abs(v))));

const pass = (r: { maxErr: number; worst: string }): void => {
  expect(r.maxErr, r.worst).toBeLessThan(1);
};

describe('every unary op of the table', () => {
  for (const op of UNARY_OPS) {
    const def = UNARY[op];
    const xs = Float64Array.from(SAMPLES[def.domain ?? 'all'].map(Math.fround));
    it(`${op}: interpreter = kernel reference = the record's f64 semantics`, () => {
      const f32 = interpret((g, [x]) => g.unary(op, x!), [xs], 'f32');
      expect(Array.from(kernelRef(un(op, load(0, [1])), [xs]))).toEqual(Array.from(f32));
      const f64 = interpret((g, [x]) => g.unary(op, x!), [xs], 'f64');
      expect(Array.from(f64)).toEqual(Array.from(xs, (x) => def.ref(x)));
    });
    if (def.vjp === 'none') {
      it(`${op}: passes no gradient`, () => {
        const g = new GraphBuilder();
        const x = g.input('x', [3]);
        const y = g.unary(op, x);
        expect(passesGradient(g.nodes[y]!, 0)).toBe(false);
        expect(gradients(g, g.sum(y, [0]), [x]).size).toBe(0);
      });
    } else {
      it(`${op}: VJP matches central differences (f64)`, () => {
        pass(fdCheck([[3, 4]], (g, [x]) => g.unary(op, x!), { values: [awayFromZero(12, 3, def.domain === 'positive')] }));
      });
    }
  }
});

describe('every binary op of the table (with broadcasting)', () => {
  for (const op of BINARY_OPS) {
    const def = BINARY[op];
    const positive = def.domain === 'positive';
    const a = awayFromZero(6, 4, positive);
    // keep max/min away from ties
    const b = awayFromZero(3, 5, positive).map((v, i) => v + 0.05 * (i + 1));
    it(`${op}: interpreter = kernel reference = the record's f64 semantics`, () => {
      const pa = Float64Array.from(a, Math.fround);
      const pb = Float64Array.from([...b, ...b], Math.fround);
      const f32 = interpret((g, [x, y]) => g.binary(op, x!, y!), [pa, pb], 'f32');
      expect(Array.from(kernelRef(bin(op, load(0, [1]), load(1, [1])), [pa, pb]))).toEqual(Array.from(f32));
      const f64 = interpret((g, [x, y]) => g.binary(op, x!, y!), [pa, pb], 'f64');
      expect(Array.from(f64)).toEqual(Array.from(pa, (x, i) => def.ref(x, pb[i]!)));
    });
    if (def.vjp === 'none') {
      it(`${op}: passes no gradient`, () => {
        const g = new GraphBuilder();
        const x = g.input('x', [3]);
        expect(gradients(g, g.sum(g.binary(op, x, g.scalar(0.5)), [0]), [x]).size).toBe(0);
      });
    } else {
      it(`${op}: VJP matches central differences (f64), both operands`, () => {
        pass(fdCheck([[2, 3], [3]], (g, [x, y]) => g.binary(op, x!, y!), { values: [a, b] }));
      });
    }
  }
});

describe('the new ops and the one erf', () => {
  it('silu = x·sigmoid(x); softplus follows torch (beta 1, threshold 20) without overflow or cancellation', () => {
    for (const x of SAMPLES.all) expect(UNARY.silu.ref(x)).toBeCloseTo(x / (1 + Math.exp(-x)), 14);
    expect(UNARY.softplus.ref(0)).toBe(Math.LN2);
    expect(UNARY.softplus.ref(20.5)).toBe(20.5); // above the threshold: x itself
    expect(UNARY.softplus.ref(19.5)).toBe(19.5 + Math.log1p(Math.exp(-19.5)));
    expect(UNARY.softplus.ref(-30) / Math.exp(-30) - 1).toBeLessThan(1e-15); // log1p, not log(1 + ·)
    expect(UNARY.softplus.ref(800)).toBe(800);
    expect(UNARY.softplus.ref(-800)).toBe(0);
  });
  it('gelu is the exact erf form (torch.nn.functional.gelu default), not the tanh approximation', () => {
    expect(UNARY.gelu.ref(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(UNARY.gelu.ref(-0.5)).toBeCloseTo(-0.15426876936299344, 15);
  });
  it('erf to ~1e-15 (math.erf values)', () => {
    const want: [number, number][] = [[0.5, 0.5204998778130465], [-1.5, -0.9661051464753108], [3, 0.9999779095030014], [3.5, 0.9999992569016276], [1e-8, 1.1283791670955126e-8]];
    for (const [x, e] of want) expect(Math.abs(erf(x) - e), `erf(${x})`).toBeLessThanOrEqual(1.5e-15 * Math.abs(e));
  });
});

describe('what the rest of the compiler reads of the table', () => {
  it('specs call exactly the `spec` ops, documented by their record', () => {
    expect(SPEC_UNARY_OPS).toEqual(expect.arrayContaining(['relu', 'tanh', 'sigmoid', 'gelu', 'silu', 'softplus']));
    for (const op of UNARY_OPS) {
      const fn = FUNCTIONS[op];
      if (UNARY[op].spec) expect(fn?.doc, op).toBe(UNARY[op].doc);
      else expect(fn, op).toBeUndefined();
    }
  });
  it('fusion folds exactly the `epilogue` ops into a matmul', () => {
    for (const op of UNARY_OPS) {
      const g = new GraphBuilder();
      const x = g.input('x', [4, 8]);
      const w = g.input('w', [8, 8]);
      g.output('y', g.unary(op, g.matmul(x, w)));
      const kernels = lowerGraphToKernels(g.build(), { mode: 'fused', maxStorageBuffers: 8 }).program.kernels;
      if (UNARY[op].epilogue) expect(kernels.map((k) => (k.kind === 'matmul' ? k.activation : k.kind)), op).toEqual([op]);
      else expect(kernels.length, op).toBe(2);
    }
  });
  it('a record without a VJP rule or a WGSL form, or a routine without a GPU lowering, is a type error', async () => {
    const root = join(import.meta.dirname, '../..');
    const dir = mkdtempSync(join(tmpdir(), 'smcirc-ops-'));
    try {
      const file = join(dir, 'bad-op.ts');
      writeFileSync(file, [
        `import type { UnaryDef } from '${join(root, 'compiler/ops/types.js')}';`,
        `export const A = { cube: { doc: 'x³', spec: false, epilogue: false, ref: (x) => x * x * x, wgsl: (a) => \`\${a} * \${a} * \${a}\` } } satisfies Record<string, UnaryDef>;`,
        `export const B = { cube: { doc: 'x³', spec: false, epilogue: false, ref: (x) => x * x * x, vjp: 'none' } } satisfies Record<string, UnaryDef>;`,
        `import type { RoutineDef } from '${join(root, 'compiler/ir/routines/registry.js')}';`,
        `export const R: RoutineDef = { name: 'r', shape: (s) => [...s[0]!], evaluate: () => new Float64Array(0), vjp: 'none', needs: 'contiguous' };`,
        '',
      ].join('\n'));
      // asynchronously: tsc takes seconds (a minute on a loaded machine), and a blocked worker misses vitest's RPC deadline
      const out = await new Promise<string>((resolve) => {
        execFile(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--types', 'node', file], { cwd: root, encoding: 'utf8' }, (_err, stdout) => resolve(String(stdout)));
      });
      expect(out).toMatch(/bad-op\.ts\(2,.*Property 'vjp' is missing/);
      expect(out).toMatch(/bad-op\.ts\(3,.*Property 'wgsl' is missing/);
      expect(out).toMatch(/bad-op\.ts\(5,.*Property 'lower' is missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
