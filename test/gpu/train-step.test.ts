// The whole smcir-tiny train step (forward, loss, backward, clipping, Adam) on the GPU against the reference
// interpreter in f32: loss, every gradient, every updated parameter and optimizer state, ten steps in a row;
// and validate mode, which names the first kernel that disagrees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModelCase, type ModelCase } from '../goldens/model-case.js';
import { caseFeeds } from './fixtures.js';
import { buildTrainStep } from '../../compiler/train-step.js';
import { evaluate, run } from '../../runtime/interpreter/evaluate.js';
import { GpuGraph, GpuTrainStep } from '../../runtime/dev/graph-on-gpu.js';
import { bin, c } from '../../compiler/kernels/ir.js';
import { expectClose, noGpuReason, openTestGpu, type Gpu } from './harness.js';


describe.skipIf(!!noGpuReason)('smcir-tiny train step on the GPU', () => {
  let gpu: Gpu;
  let mc: ModelCase;
  let feeds: Map<string, Float32Array>;
  beforeAll(async () => {
    gpu = await openTestGpu();
    mc = buildModelCase();
    feeds = caseFeeds(mc);
  });
  afterAll(() => gpu?.ctx.destroy());

  it('matches the interpreter: loss, every gradient, every updated state; ten steps in a row', async () => {
    const step = mc.step;
    const gradIds = [...step.grads.values()];
    const gs = await GpuTrainStep.create(gpu.ctx, step, { keep: gradIds });
    try {
      gs.feed(feeds);
      let state = new Map(feeds);
      for (let s = 0; s < 10; s++) {
        const vals = evaluate(step.graph, state, { dtype: 'f32', keep: gradIds });
        const out = (name: string) => vals[step.graph.outputs.get(name)!]!;
        const got = await gs.run();
        // the loss is a mean over the batch: f32 summation order differs between the kernels and the interpreter
        expect(got.loss, `step ${s} loss`).toBeCloseTo(out('loss')[0]!, 5);
        expect(Math.abs(got.gradNorm - out('grad_norm')[0]!) / out('grad_norm')[0]!, `step ${s} grad norm`).toBeLessThan(1e-4);
        if (s === 0) {
          const g = await gs.gpu.readNodes(gradIds);
          for (const [name, id] of step.grads) {
            const ref = Float32Array.from(vals[id]!);
            // atol: 1e-4 of the largest gradient entry of the tensor (entries that cancel to ~0 carry f32 noise)
            const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
            expectClose(g.get(id), ref, 1e-4, 1e-4 * scale + 1e-12, `grad ${name}`);
          }
        }
        const next = new Map(state);
        for (const st of step.state) next.set(st.name, Float32Array.from(out(`new:${st.name}`)));
        state = next;
        if (s === 0 || s === 9) {
          const gotState = await gs.readState();
          for (const st of step.state) {
            const ref = state.get(st.name)!;
            // parameters are O(0.1–1) and move by ~lr per step: f32 rounding of p − update is ~1e-7 absolute
            expectClose(gotState.get(st.name), ref, 1e-4, st.kind === 'adam_v' ? 1e-10 : 1e-6, `step ${s} ${st.name}`);
          }
        }
      }
    } finally {
      gs.destroy();
    }
  });

  it('two runs of the whole train step are bit-identical (no float atomics, fixed reduction order)', async () => {
    const runs: { losses: number[]; state: Map<string, Float32Array> }[] = [];
    for (let r = 0; r < 2; r++) {
      const gs = await GpuTrainStep.create(gpu.ctx, mc.step);
      try {
        gs.feed(feeds);
        const losses: number[] = [];
        for (let s = 0; s < 3; s++) losses.push((await gs.run()).loss);
        runs.push({ losses, state: await gs.readState() });
      } finally {
        gs.destroy();
      }
    }
    expect(runs[1]!.losses).toEqual(runs[0]!.losses);
    for (const [k, v] of runs[0]!.state) expect(Buffer.from(runs[1]!.state.get(k)!.buffer).equals(Buffer.from(v.buffer)), k).toBe(true);
  });

  it('optimizer as primitives (the unfused baseline): state copied back after each step, 3 steps match the interpreter', async () => {
    // clipping active (grad norm ≈ 0.25) and weight decay, so every part of the primitive optimizer runs
    const step = buildTrainStep(mc.graph, { ...mc.opts, maxGradNorm: 0.05, weightDecay: 0.01, optimizer: 'primitives' });
    for (const mode of ['fused', 'unfused'] as const) {
      const gs = await GpuTrainStep.create(gpu.ctx, step, { mode });
      try {
        // parameters, m, v and step counts are not updated in place: one copy per state buffer
        expect(gs.gpu.lowered.program.copies.length, mode).toBe(step.state.length);
        gs.feed(feeds);
        let state = new Map(feeds);
        for (let s = 0; s < 3; s++) {
          const ref = run(step.graph, state, { dtype: 'f32' });
          const got = await gs.run();
          expect(got.loss, `${mode} step ${s} loss`).toBeCloseTo(ref.get('loss')![0]!, 5);
          expect(Math.abs(got.gradNorm - ref.get('grad_norm')![0]!) / ref.get('grad_norm')![0]!, `${mode} step ${s} grad norm`).toBeLessThan(1e-4);
          state = new Map(state);
          for (const st of step.state) state.set(st.name, Float32Array.from(ref.get(`new:${st.name}`)!));
        }
        const gotState = await gs.readState();
        for (const st of step.state) {
          expectClose(gotState.get(st.name), state.get(st.name)!, 1e-4, st.kind === 'adam_v' ? 1e-10 : 1e-6, `${mode} ${st.name}`);
        }
      } finally {
        gs.destroy();
      }
    }
  });

  it('validate mode: every kernel agrees; a faulty kernel is named', async () => {
    const graph = mc.graph; // the forward graph (loss and DMFD outputs)
    const ok = await GpuGraph.create(gpu.ctx, graph);
    try {
      expect(await ok.validate(feeds)).toBeUndefined();
    } finally {
      ok.destroy();
    }
    let victim = '';
    const bad = await GpuGraph.create(gpu.ctx, graph, {
      transformProgram: (p) => {
        const k = p.kernels.find((x) => x.kind === 'expr' && !x.reduce && x.name.startsWith('cmcg'))!;
        if (k.kind !== 'expr') return;
        victim = k.name;
        k.outputs[0]!.expr = bin('mul', k.outputs[0]!.expr, c(1.01));
      },
    });
    try {
      const d = await bad.validate(feeds);
      expect(d?.kernel).toBe(victim);
    } finally {
      bad.destroy();
    }
  });

  it('GpuGraph runs the forward graph and returns every output', async () => {
    const gg = await GpuGraph.create(gpu.ctx, mc.graph);
    try {
      for (const [k, v] of feeds) if (mc.graph.inputs.has(k) || mc.graph.params.some((p) => p.name === k)) gg.feed(k, v);
      const names = [...mc.graph.outputs.keys()];
      const got = await gg.run(names);
      const ref = run(mc.graph, feeds, { dtype: 'f32' });
      for (const n of names) expectClose(got.get(n), Float32Array.from(ref.get(n)!), 1e-4, 1e-5, n);
    } finally {
      gg.destroy();
    }
  });
});
