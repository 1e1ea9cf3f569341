// Routine `adam_update`: global-norm clipping + torch.optim.Adam over every updated parameter, one packed result.
//
// adam_update(g_0…g_{P-1}, p_0…, m_0…, v_0…, t_0…; params, beta1, beta2, eps, maxNorm (0: no clipping),
// skipUnused, lrs, wds (comma-separated, one per parameter)) → [3·A + pad4(P + 1)]:
//   [0, A) new parameters, [A, 2A) new m, [2A, 3A) new v (parameter i at adamLayout's offsets[i] in each),
//   3A + i the new step count of parameter i, 3A + P the gradient norm before clipping; the gaps are zero.
// The math is the graph version's, op for op (in f32 mode every intermediate is rounded as a graph op would be):
//   total = ‖(‖g_i‖)_i‖₂, coef = min(maxNorm / (total + 1e-6), 1); per parameter: used = Σ g_i² > 0 (torch skips
//   a parameter whose .grad is None; an all-zero gradient stands for that), t' = t + used, bias corrections at
//   max(t', 1), g = g·coef + wd·p, m' = β1·m + (1−β1)·g, v' = β2·v + (1−β2)·g², p' = p − lr/bc1 · m'/(√v'/√bc2 + eps);
//   an unused parameter keeps p, m, v and t. No gradient: the update is the end of a train step. GPU lowering:
//   compiler/passes/lower-optimizer.ts (the arena, with p, m, v, t placed in it, updated in place).
import { ShapeError, type Shape } from '../graph.js';
import { lowerAdamUpdate } from '../../passes/lower-optimizer.js';
import { adamLayout, count, numberList } from './adam-layout.js';
import { registerRoutine } from './registry.js';

export { ADAM_ALIGN, adamLayout, numberList, type AdamLayout } from './adam-layout.js';

const numel = (s: Shape): number => s.reduce((a, b) => a * b, 1);

registerRoutine({
  name: 'adam_update',
  shape: (s, p) => {
    const P = count(p);
    if (s.length !== 5 * P) throw new ShapeError(`adam_update: expected ${5 * P} inputs (grads, params, m, v, steps), got ${s.length}`, s);
    for (let i = 0; i < P; i++) {
      const n = numel(s[i]!);
      for (const k of [1, 2, 3]) {
        if (numel(s[k * P + i]!) !== n) throw new ShapeError(`adam_update: parameter ${i}: gradient, value, m and v sizes differ`, s);
      }
      if (numel(s[4 * P + i]!) !== 1) throw new ShapeError(`adam_update: parameter ${i}: the step count must be a scalar`, s);
    }
    numberList(p, 'lrs');
    numberList(p, 'wds');
    return [adamLayout(s.slice(0, P).map(numel)).size];
  },
  evaluate: (ins, shapes, p, f32) => {
    const P = count(p);
    const R = f32 ? Math.fround : (x: number): number => x;
    const [b1, b2, eps] = [R(Number(p.beta1)), R(Number(p.beta2)), R(Number(p.eps))];
    const [c1, c2] = [R(1 - Number(p.beta1)), R(1 - Number(p.beta2))];
    const maxNorm = Number(p.maxNorm ?? 0);
    const [lrs, wds] = [numberList(p, 'lrs'), numberList(p, 'wds')];
    const lay = adamLayout(shapes.slice(0, P).map(numel));
    const out = new Float64Array(lay.size);
    const sumSq = ins.slice(0, P).map((g) => {
      let s = 0;
      for (let j = 0; j < g.length; j++) s += R(g[j]! * g[j]!);
      return R(s);
    });
    const norm = R(Math.sqrt(sumSq.reduce((a, s) => R(a + s), 0)));
    const coef = maxNorm > 0 ? Math.min(R(R(maxNorm) / R(norm + R(1e-6))), 1) : undefined;
    for (let i = 0; i < P; i++) {
      const [g, pv, m, v] = [ins[i]!, ins[P + i]!, ins[2 * P + i]!, ins[3 * P + i]!];
      const t = ins[4 * P + i]![0]!;
      const o = lay.offsets[i]!;
      const used = p.skipUnused === false || sumSq[i]! > 0 ? 1 : 0;
      const t1 = R(t + used);
      out[3 * lay.region + i] = t1;
      if (!used) {
        for (let j = 0; j < g.length; j++) [out[o + j], out[lay.region + o + j], out[2 * lay.region + o + j]] = [pv[j]!, m[j]!, v[j]!];
        continue;
      }
      const tb = Math.max(t1, 1);
      const bc1 = R(1 - R(Math.pow(b1, tb)));
      const bc2sqrt = R(Math.sqrt(R(1 - R(Math.pow(b2, tb)))));
      const stepSize = R(R(lrs[i]!) / bc1);
      const wd = R(wds[i]!);
      for (let j = 0; j < g.length; j++) {
        let gr = coef === undefined ? g[j]! : R(g[j]! * coef);
        if (wds[i] !== 0) gr = R(gr + R(pv[j]! * wd));
        const m1 = R(R(m[j]! * b1) + R(gr * c1));
        const v1 = R(R(v[j]! * b2) + R(R(gr * gr) * c2));
        const denom = R(R(R(Math.sqrt(v1)) / bc2sqrt) + eps);
        out[o + j] = R(pv[j]! - R(stepSize * R(m1 / denom)));
        out[lay.region + o + j] = m1;
        out[2 * lay.region + o + j] = v1;
      }
    }
    out[3 * lay.region + P] = norm;
    return out;
  },
  vjp: 'none',
  // gradients contiguous; parameters, m, v and step counts placed inside the arena, updated in place
  needs: (k, p) => (k < count(p) ? 'contiguous' : 'in-place'),
  lower: lowerAdamUpdate,
});
