// Arenas above the adapter's maxStorageBufferBindingSize: the optimizer kernels split the gradient arena and the
// parameter / m / v regions into chunks that each fit one binding (per-chunk partial sums, one global norm);
// any other binding above the limit is refused at plan time. The smcir-tiny train step, planned with a binding
// limit small enough to force several chunks, matches the unchunked step and the interpreter for 3 steps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModelCase } from '../goldens/model-case.js';
import { caseFeeds } from './fixtures.js';
import { buildTrainStep, type TrainStep } from '../../compiler/train-step.js';
import { planTrainStep } from '../../compiler/passes/plan-graph.js';
import { SOFTWARE_DEFAULTS, selectKernelConfig, type KernelConfig } from '../../compiler/kernels/select.js';
import { KernelError } from '../../compiler/kernels/errors.js';
import type { DispatchPlan } from '../../compiler/kernels/plan.js';
import { run } from '../../runtime/interpreter/evaluate.js';
import { GpuTrainStep } from '../../runtime/dev/graph-on-gpu.js';
import { expectClose, noGpuReason, openTestGpu, type Gpu } from './harness.js';

const OPTIMIZER = /adam_update(\.grad_norm|\.step)?(#\d+)?(\.chunk\d+)?$/;

/** Largest binding (bytes) of the plan's dispatches, optimizer kernels apart or not. */
function largestBinding(plan: DispatchPlan, optimizer: boolean): number {
  let max = 0;
  for (const d of plan.dispatches) {
    if (OPTIMIZER.test(d.label) !== optimizer) continue;
    for (const b of d.bindings) if ('buffer' in b) max = Math.max(max, b.byteSize);
  }
  return max;
}

/** A binding limit every other kernel fits but that splits the gradient arena into ≥ 3 chunks (16-byte multiple). */
function smallLimit(step: TrainStep, cfg: KernelConfig): number {
  const { plan, lowered } = planTrainStep(step, cfg);
  const grads = lowered.program.tensors.find((t) => t.role === 'grad' && t.name.endsWith('.grads'))!;
  const limit = Math.max(largestBinding(plan, false), Math.ceil((grads.size * 4) / 3.5));
  return Math.ceil(limit / 16) * 16;
}


describe('optimizer arenas above the binding limit', () => {
  const base = { ...selectKernelConfig(SOFTWARE_DEFAULTS), maxStorageBuffers: 16 };

  it('at the default limit the optimizer is three kernels; below it, one kernel per chunk, every binding within the limit', () => {
    const mc = buildModelCase();
    const whole = planTrainStep(mc.step, base).plan;
    expect(whole.dispatches.filter((d) => OPTIMIZER.test(d.label)).length).toBe(3);
    const limit = smallLimit(mc.step, base);
    const chunked = planTrainStep(mc.step, { ...base, maxStorageBufferBindingSize: limit }).plan;
    const opt = chunked.dispatches.filter((d) => OPTIMIZER.test(d.label)).map((d) => d.label.replace(/.*adam_update/, 'adam_update').replace(/#\d+/, ''));
    expect(opt.filter((l) => l.startsWith('adam_update.grad_norm.chunk')).length).toBeGreaterThanOrEqual(3);
    expect(opt.filter((l) => /^adam_update\.chunk/.test(l)).length).toBeGreaterThanOrEqual(3);
    expect(opt.filter((l) => l === 'adam_update.step')).toHaveLength(1);
    expect(largestBinding(chunked, true)).toBeLessThanOrEqual(limit);
    expect(largestBinding(whole, true)).toBeGreaterThan(limit);
    // other kernels unchanged
    expect(chunked.dispatches.length - opt.length).toBe(whole.dispatches.length - 3);
  });

  it('a tensor above the limit fails at plan time naming the tensor and the limit', () => {
    const mc = buildModelCase();
    // just below the largest non-optimizer binding: the optimizer still chunks, that one tensor cannot
    const limit = largestBinding(planTrainStep(mc.step, base).plan, false) - 16;
    const plan = () => planTrainStep(mc.step, { ...base, maxStorageBufferBindingSize: limit });
    expect(plan).toThrow(KernelError);
    expect(plan).toThrow(new RegExp(`tensor \\S+ \\(${limit + 16} bytes\\), above the adapter's maxStorageBufferBindingSize of ${limit} bytes`));
    // far below: an optimizer block alone does not fit
    expect(() => planTrainStep(mc.step, { ...base, maxStorageBufferBindingSize: 1024 })).toThrow(/bytes of tensor \S+ \(with alignment\) does not fit the adapter's maxStorageBufferBindingSize of 1024 bytes/);
  });
});

describe.skipIf(!!noGpuReason)('chunked optimizer on the GPU', () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await openTestGpu();
  });
  afterAll(() => gpu?.ctx.destroy());

  it('the tiny train step with a small binding limit matches the unchunked step and the interpreter, 3 steps', async () => {
    const mc = buildModelCase();
    // clipping active and weight decay: every part of the update runs
    const step = buildTrainStep(mc.graph, { ...mc.opts, maxGradNorm: 0.05, weightDecay: 0.01 });
    const feeds = caseFeeds({ ...mc, step });
    const limit = smallLimit(step, gpu.cfg);
    const whole = await GpuTrainStep.create(gpu.ctx, step);
    const chunked = await GpuTrainStep.create(gpu.ctx, step, { cfg: { ...gpu.cfg, maxStorageBufferBindingSize: limit } });
    try {
      expect(chunked.gpu.plan.dispatches.length).toBeGreaterThan(whole.gpu.plan.dispatches.length + 3);
      whole.feed(feeds);
      chunked.feed(feeds);
      let state = new Map(feeds);
      for (let s = 0; s < 3; s++) {
        const ref = run(step.graph, state, { dtype: 'f32' });
        const [a, b] = [await whole.run(), await chunked.run()];
        // same kernels, same summation order (the norm sums the same per-block partials in block order)
        expect(b.loss, `step ${s} loss`).toBe(a.loss);
        expect(b.gradNorm, `step ${s} grad norm`).toBe(a.gradNorm);
        expect(b.loss, `step ${s} loss vs interpreter`).toBeCloseTo(ref.get('loss')![0]!, 5);
        expect(Math.abs(b.gradNorm - ref.get('grad_norm')![0]!) / ref.get('grad_norm')![0]!, `step ${s} grad norm vs interpreter`).toBeLessThan(1e-4);
        state = new Map(state);
        for (const st of step.state) state.set(st.name, Float32Array.from(ref.get(`new:${st.name}`)!));
      }
      const [sa, sb] = [await whole.readState(), await chunked.readState()];
      for (const st of step.state) {
        expect(Buffer.from(sb.get(st.name)!.buffer).equals(Buffer.from(sa.get(st.name)!.buffer)), `${st.name} bit-identical`).toBe(true);
        expectClose(sb.get(st.name), state.get(st.name)!, 1e-4, st.kind === 'adam_v' ? 1e-10 : 1e-6, st.name);
      }
    } finally {
      whole.destroy();
      chunked.destroy();
    }
  });

  it('validate mode checks a chunked plan kernel by kernel (all chunks of one kernel together) and names a faulty chunk', async () => {
    const mc = buildModelCase();
    const step = buildTrainStep(mc.graph, { ...mc.opts, maxGradNorm: 0.05, weightDecay: 0.01 });
    const feeds = caseFeeds({ ...mc, step });
    const cfg = { ...gpu.cfg, maxStorageBufferBindingSize: smallLimit(step, gpu.cfg) };
    const ok = await GpuTrainStep.create(gpu.ctx, step, { cfg });
    try {
      expect(ok.gpu.plan.dispatches.filter((d) => /\.chunk\d+$/.test(d.label)).length).toBeGreaterThanOrEqual(6);
      expect(await ok.gpu.validate(feeds)).toBeUndefined();
    } finally {
      ok.destroy();
    }
    // the Adam update's second chunk scales its new parameters by 1.01: validation names that kernel
    let victim = '';
    const bad = await GpuTrainStep.create(gpu.ctx, step, {
      cfg,
      transformPlan: (plan) => {
        const d = plan.dispatches.find((x) => /adam_update(#\d+)?\.chunk1$/.test(x.label))!;
        const k = plan.kernels[d.kernel]!;
        victim = d.label;
        const edited = k.wgsl.replace(/(p\[[^\]]+\] = )([^;]+);/, '$1($2) * 1.01;');
        expect(edited).not.toBe(k.wgsl);
        plan.kernels.push({ ...k, wgsl: edited, hash: `${k.hash}-edited` });
        d.kernel = plan.kernels.length - 1;
      },
    });
    try {
      const d = await bad.gpu.validate(feeds);
      expect(d?.kernel).toMatch(/adam_update(#\d+)?\.chunk0$/); // the range of a chunked kernel is named by its first dispatch
      expect(victim).toMatch(/adam_update(#\d+)?\.chunk1$/);
    } finally {
      bad.destroy();
    }
  });
});
