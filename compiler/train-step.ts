// The train step as one graph: forward + loss + backward, then global-norm clipping + torch.optim.Adam (coupled L2
// weight decay, bias correction, eps, per-group lr / weight decay) as one `adam_update` routine, or (optimizer:
// 'primitives') as per-parameter graph ops (compiler/optimizer-primitives.ts). State = params, Adam m and v, step
// counts.
import { GraphBuilder, numel, type Graph, type ParamInfo } from './ir/graph.js';
import { gradients } from './autodiff.js';
import { adamLayout } from './ir/routines/index.js';
import { emitPrimitiveOptimizer } from './optimizer-primitives.js';
import { globalStepBinding, mName, paramGroup, tName, vName, type OptimizerGroup, type StateBinding, type TrainStepOptions } from './optimizer-state.js';
import { GRAD_NORM_OUTPUT, LOSS_OUTPUT, newStateOutput } from '../runtime/abi/names.js';
import { initTrainState as initStateAbi } from '../runtime/abi/init.js';

export * from './optimizer-state.js';
import type { TrainSettings } from './check/settings.js';

/** Train-step options from a spec's resolved `train` settings (clip_grad_norm 0 = off). */
export function trainStepOptionsFromSettings(t: TrainSettings, loss: string | number = 'loss'): TrainStepOptions {
  return {
    loss, lr: t.lr, eps: t.eps, betas: t.betas, weightDecay: t.weight_decay,
    maxGradNorm: t.clip_grad_norm > 0 ? t.clip_grad_norm : null,
    patternGroups: t.groups.map((g) => ({ name: g.name, params: g.params, lr: g.lr, weightDecay: g.weight_decay })),
  };
}

export interface TrainStep {
  graph: Graph;
  loss: number;
  gradNorm: number;
  state: StateBinding[];
  /** Gradient node (after clipping) per updated parameter name. */
  grads: Map<string, number>;
  /** Number of nodes of the forward graph (the step graph appends backward and update). */
  forwardSize: number;
  /** Trainable parameters that get no gradient from the loss: they are left unchanged (torch: grad None). */
  untouched: string[];
}

export function buildTrainStep(forward: Graph, o: TrainStepOptions): TrainStep {
  const g = GraphBuilder.from(forward);
  const forwardSize = forward.nodes.length;
  const loss = typeof o.loss === 'number' ? o.loss : forward.outputs.get(o.loss);
  if (loss === undefined) throw new Error(`train step: no forward output \`${String(o.loss)}\``);
  if (g.shape(loss).length !== 0) throw new Error(`train step: the loss must be a scalar, got [${g.shape(loss).join(', ')}]`);
  const trainable = forward.params.filter((p) => !p.frozen);
  const raw = g.scoped('backward', () => gradients(g, loss, trainable.map((p) => p.node)));
  const updated = trainable.filter((p) => raw.has(p.node));
  const untouched = trainable.filter((p) => !raw.has(p.node)).map((p) => p.name);
  const done = (gradNorm: number, state: StateBinding[], grads: Map<string, number>): TrainStep => {
    g.output(LOSS_OUTPUT, loss);
    g.output(GRAD_NORM_OUTPUT, gradNorm);
    for (const s of state) g.output(newStateOutput(s.name), s.update);
    return { graph: g.build(), loss, gradNorm, state, grads, forwardSize, untouched };
  };
  if (o.optimizer === 'primitives') {
    const r = emitPrimitiveOptimizer(g, updated, raw, o);
    return done(r.gradNorm, r.state, r.grads);
  }
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  const eps = o.eps ?? 1e-8;
  const c = (v: number): number => g.scalar(v);
  const skipUnused = o.skipUnused ?? true;
  const state: StateBinding[] = [];
  const grads = new Map<string, number>();
  let gradNorm = c(0);
  g.scoped('adam', () => {
    state.push(globalStepBinding(g));
    if (!updated.length) return;
    const m = updated.map((p) => g.input(mName(p.name), p.shape));
    const v = updated.map((p) => g.input(vName(p.name), p.shape));
    const tp = updated.map((p) => g.input(tName(p.name), []));
    const groups = updated.map((p) => paramGroup(p, o));
    // clipping, the update and the skip-unused test over every parameter at once: one routine, one packed result
    const packed = g.routine('adam_update', [...updated.map((p) => raw.get(p.node)!), ...updated.map((p) => p.node), ...m, ...v, ...tp], {
      params: updated.length, beta1: b1, beta2: b2, eps, maxNorm: o.maxGradNorm ?? 0, skipUnused,
      lrs: groups.map((x) => x.lr).join(','), wds: groups.map((x) => x.weightDecay).join(','),
    });
    const lay = adamLayout(updated.map((p) => numel(p.shape)));
    const part = (at: number, shape: number[]): number => g.reshape(g.slice(packed, 0, at, at + numel(shape)), shape);
    gradNorm = part(3 * lay.region + updated.length, []);
    // the clipped gradients (what torch's .grad holds after clip_grad_norm_), for inspection: the update clips itself
    const coef = o.maxGradNorm == null ? undefined : g.binary('min', g.div(c(o.maxGradNorm), g.add2(gradNorm, c(1e-6))), c(1));
    updated.forEach((p, i) => {
      const gr = raw.get(p.node)!;
      grads.set(p.name, coef === undefined ? gr : g.mul(gr, coef));
      const at = lay.offsets[i]!;
      const shape = [...p.shape];
      state.push({ name: p.name, kind: 'param', shape, node: p.node, update: part(at, shape), param: p.name });
      state.push({ name: mName(p.name), kind: 'adam_m', shape, node: m[i]!, update: part(lay.region + at, shape), param: p.name });
      state.push({ name: vName(p.name), kind: 'adam_v', shape, node: v[i]!, update: part(2 * lay.region + at, shape), param: p.name });
      state.push({ name: tName(p.name), kind: 'step', shape: [], node: tp[i]!, update: part(3 * lay.region + i, []), param: p.name });
    });
  });
  return done(gradNorm, state, grads);
}

/** Initial optimiser state for a step: the given parameter values, zero m and v, step counts 0. */
export function initTrainState(step: TrainStep, params: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  for (const p of step.graph.params) if (!params.has(p.name)) throw new Error(`initTrainState: no value for parameter \`${p.name}\``);
  return initStateAbi(step.state, new Map(step.graph.params.map((p) => [p.name, params.get(p.name)!])));
}
