// Finite-difference gradient check in f64 on the reference interpreter (test helper).
import { GraphBuilder, numel } from '../../compiler/ir/graph.js';
import { gradients } from '../../compiler/autodiff.js';
import { rngNormal } from '../../runtime/abi/rng.js';
import { evaluate } from '../../runtime/interpreter/index.js';

export function randn(n: number, seed: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rngNormal(seed, 7, i);
  return a;
}

export interface FdOptions {
  /** Values per input (default: N(0,1) draws). */
  values?: (Float64Array | undefined)[];
  h?: number;
  rtol?: number;
  atol?: number;
  /** Probe at most this many elements per input. */
  probes?: number;
  /** Extra feeds (e.g. parameters created by layers), by name; default N(0, 0.5) draws for every param. */
  seed?: number;
}

export interface FdReport {
  maxErr: number;
  checked: number;
  worst: string;
}

/**
 * Builds y = build(g, inputs) (+ params created inside), reduces it with a fixed random cotangent to a scalar,
 * and compares d/d(inputs and params) from `gradients` against central differences.
 */
export function fdCheck(shapes: number[][], build: (g: GraphBuilder, xs: number[]) => number, o: FdOptions = {}): FdReport {
  const g = new GraphBuilder();
  const xs = shapes.map((s, i) => g.input(`x${i}`, s));
  const y = build(g, xs);
  const ys = g.shape(y);
  const cot = g.tensor(randn(numel(ys), 99), ys);
  const prod = g.mul(y, cot);
  const loss = ys.length ? g.sum(prod, ys.map((_, i) => i)) : prod;
  const targets = [...xs, ...g.params.filter((p) => !p.frozen).map((p) => p.node)];
  const grads = gradients(g, loss, targets);
  const graph = g.build();
  const feeds = new Map<string, Float64Array>();
  shapes.forEach((s, i) => feeds.set(`x${i}`, o.values?.[i] ?? randn(numel(s), 1000 + i)));
  g.params.forEach((p, i) => feeds.set(p.name, randn(numel(p.shape), 2000 + i, 0.5)));
  const names = [...shapes.map((_, i) => `x${i}`), ...g.params.filter((p) => !p.frozen).map((p) => p.name)];
  const vals = evaluate(graph, feeds, { dtype: 'f64' });
  const lossAt = (): number => evaluate(graph, feeds, { dtype: 'f64', keep: [loss] })[loss]![0]!;
  const h = o.h ?? 1e-6;
  let maxErr = 0, checked = 0, worst = '';
  targets.forEach((t, ti) => {
    const name = names[ti]!;
    const v = feeds.get(name)!;
    const gid = grads.get(t);
    const an = gid === undefined ? new Float64Array(v.length) : vals[gid]!;
    const n = v.length;
    const probes = Math.min(n, o.probes ?? 24);
    for (let k = 0; k < probes; k++) {
      const i = probes === n ? k : Math.floor((k * n) / probes + (k % 3));
      const idx = Math.min(i, n - 1);
      const old = v[idx]!;
      v[idx] = old + h;
      const lp = lossAt();
      v[idx] = old - h;
      const lm = lossAt();
      v[idx] = old;
      const fd = (lp - lm) / (2 * h);
      const a = an[idx]!;
      const err = Math.abs(a - fd) / ((o.atol ?? 1e-6) + (o.rtol ?? 1e-5) * Math.abs(fd));
      checked++;
      if (err > maxErr) { maxErr = err; worst = `${name}[${idx}]: analytic ${a}, fd ${fd}`; }
    }
  });
  return { maxErr, checked, worst };
}
