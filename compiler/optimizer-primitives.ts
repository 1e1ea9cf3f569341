// Clipping + torch.optim.Adam as ordinary per-parameter graph ops (the form before the `adam_update` routine, commit
// 15393ab): sum of squares per gradient, sqrt, min for clip_grad_norm_, per-parameter bias correction (pow),
// skip-unused as select. Every primitive lowers to its own kernel under `mode: 'unfused'`, so this is the
// one-kernel-per-primitive baseline, and, on the interpreter, an oracle for the routine.
import type { GraphBuilder, ParamInfo } from './ir/graph.js';
import { globalStepBinding, mName, paramGroup, tName, vName, type StateBinding, type TrainStepOptions } from './optimizer-state.js';

export interface PrimitiveOptimizer {
  gradNorm: number;
  /** Clipped gradient node per parameter name. */
  grads: Map<string, number>;
  /** Parameter, m, v and step-count bindings, four per parameter in that order. */
  state: StateBinding[];
}

/**
 * Emits clip_grad_norm_ (scope `clip`), then the global step count and the Adam update of every parameter of
 * `updated` (scope `adam`, one sub-scope per parameter). `raw`: parameter node → its gradient.
 */
export function emitPrimitiveOptimizer(
  g: GraphBuilder, updated: readonly ParamInfo[], raw: ReadonlyMap<number, number>, o: TrainStepOptions,
): PrimitiveOptimizer {
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  const eps = o.eps ?? 1e-8;
  const skipUnused = o.skipUnused ?? true;
  const c = (v: number): number => g.scalar(v);
  const sumSq = new Map<string, number>();
  const grads = new Map<string, number>();

  // clip_grad_norm_: total = ‖(‖g_i‖)_i‖₂, coef = min(max / (total + 1e-6), 1)
  const gradNorm = g.scoped('clip', () => {
    for (const p of updated) {
      const gr = raw.get(p.node)!;
      sumSq.set(p.name, g.sum(g.unary('square', gr), g.shape(gr).map((_, i) => i)));
    }
    const norm = g.unary('sqrt', [...sumSq.values()].reduce((a, b) => g.add2(a, b), c(0)));
    const coef = o.maxGradNorm == null ? undefined : g.binary('min', g.div(c(o.maxGradNorm), g.add2(norm, c(1e-6))), c(1));
    for (const p of updated) {
      const gr = raw.get(p.node)!;
      grads.set(p.name, coef === undefined ? gr : g.mul(gr, coef));
    }
    return norm;
  });

  const state: StateBinding[] = [];
  g.scoped('adam', () => {
    state.push(globalStepBinding(g));
    for (const p of updated) {
      const grp = paramGroup(p, o);
      g.scoped(p.name, () => {
        const m = g.input(mName(p.name), p.shape);
        const v = g.input(vName(p.name), p.shape);
        const tp = g.input(tName(p.name), []);
        // torch skips a parameter whose .grad is None (not used this step): here, an all-zero gradient
        const used = skipUnused ? g.binary('gt', sumSq.get(p.name)!, c(0)) : c(1);
        const t1 = g.add2(tp, used);
        const tb = g.binary('max', t1, c(1));
        const bc1 = g.sub(c(1), g.binary('pow', c(b1), tb));
        const bc2sqrt = g.unary('sqrt', g.sub(c(1), g.binary('pow', c(b2), tb)));
        let gr = grads.get(p.name)!;
        if (grp.weightDecay !== 0) gr = g.add2(gr, g.mul(p.node, c(grp.weightDecay)));
        let m1 = g.add2(g.mul(m, c(b1)), g.mul(gr, c(1 - b1)));
        let v1 = g.add2(g.mul(v, c(b2)), g.mul(g.unary('square', gr), c(1 - b2)));
        const denom = g.add2(g.div(g.unary('sqrt', v1), bc2sqrt), c(eps));
        const stepSize = g.div(c(grp.lr), bc1);
        let p1 = g.sub(p.node, g.mul(stepSize, g.div(m1, denom)));
        if (skipUnused) {
          p1 = g.select(used, p1, p.node);
          m1 = g.select(used, m1, m);
          v1 = g.select(used, v1, v);
        }
        const shape = [...p.shape];
        state.push({ name: p.name, kind: 'param', shape, node: p.node, update: p1, param: p.name });
        state.push({ name: mName(p.name), kind: 'adam_m', shape, node: m, update: m1, param: p.name });
        state.push({ name: vName(p.name), kind: 'adam_v', shape, node: v, update: v1, param: p.name });
        state.push({ name: tName(p.name), kind: 'step', shape: [], node: tp, update: t1, param: p.name });
      });
    }
  });
  return { gradNorm, grads, state };
}
