// One spec's train step on the GPU, timed step by step, for bench/device.sh (a borrowed NVIDIA machine) and its dry run
// here on lavapipe: compiles the spec for the adapter at hand, trains on the built-in synthetic set at the given
// batch and prints one JSON line on stdout (progress on stderr). A step is what `smcirc train` times: upload the
// batch, run forward + loss + backward + clip + Adam in one submit, read back the loss and the gradient norm. The
// first step (on lavapipe it also compiles every pipeline) is reported apart; the median is over the others.
//
//   node dist/bench/device-step.js <spec> [--batch 64] [--steps 5] [--set k=v]... [--budget-s 240] [--profile-top 15]
//
// Exit 0 with {"ok":true,…}; exit 1 with {"ok":false,"stage":…,"error":…} (still one JSON line on stdout).

import { compileModel } from '../compiler/compile.js';
import { initParams, initTrainState } from '../runtime/abi/init.js';
import type { GpuBackend } from '../runtime/backends/gpu.js';
import { openBackend } from '../runtime/backends/index.js';
import { iterateBatches } from '../runtime/data/index.js';
import { batchTensors, loadRunData, roles } from '../runtime/train/data-source.js';
import { slowestKernels } from '../runtime/gpu/executor.js';

interface Args {
  spec: string;
  batch: number;
  steps: number;
  set: string[];
  budgetS: number;
  profileTop: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { spec: 'specs/smcir.smcir', batch: 64, steps: 5, set: [], budgetS: 240, profileTop: 15 };
  let specGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    const num = (x: string, min: number) => {
      const n = Number(x);
      if (!Number.isFinite(n) || n < min) throw new Error(`${k}: expected a number ≥ ${min}, got "${x}"`);
      return n;
    };
    if (k === '--batch') a.batch = Math.trunc(num(v(), 1));
    else if (k === '--steps') a.steps = Math.trunc(num(v(), 1));
    else if (k === '--set') a.set.push(v());
    else if (k === '--budget-s') a.budgetS = num(v(), 1);
    else if (k === '--profile-top') a.profileTop = Math.trunc(num(v(), 0));
    else if (!k.startsWith('--') && !specGiven) {
      a.spec = k;
      specGiven = true;
    } else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const say = (line: string) => process.stderr.write(`device-step: ${line}\n`);

async function main(): Promise<number> {
  const out: Record<string, unknown> = { ok: false, tool: 'smcirc bench/device-step', node: process.version };
  let stage = 'arguments';
  const finish = (code: number) => {
    out.peak_rss_mb = round(process.resourceUsage().maxRSS / 1024, 1);
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return code;
  };
  try {
    const a = parseArgs(process.argv.slice(2));
    const t0 = performance.now();
    const deadline = t0 + a.budgetS * 1000;
    // two distinct training batches, cycled; validation and test are not used here
    const overrides = [`train.batch_size=${a.batch}`, `data.synthetic_train=${2 * a.batch}`, 'data.synthetic_valid=8', 'data.synthetic_test=8', ...a.set];
    Object.assign(out, { spec: a.spec, batch: a.batch, steps_requested: a.steps, overrides });

    stage = 'compile';
    say(`compiling ${a.spec} (${overrides.join(' ')})`);
    let t = performance.now();
    const compiled = compileModel(a.spec, { overrides });
    out.compile_s = round((performance.now() - t) / 1000);

    stage = 'open the GPU and load the programs';
    say('opening the adapter, lowering for it and creating the pipelines');
    t = performance.now();
    const { backend: b, abi: model } = await openBackend('gpu', compiled, { overrides });
    const backend = b as GpuBackend;
    out.load_s = round((performance.now() - t) / 1000);
    const { sharedGpu } = await import('../runtime/backends/gpu.js');
    const ctx = await sharedGpu();
    const ad = ctx.adapter;
    out.adapter = {
      described: backend.describe(),
      vendor: ad.vendor,
      architecture: ad.architecture,
      device: ad.device,
      description: ad.description,
      software: ad.isSoftware,
      timestamp_query: ad.features.includes('timestamp-query'),
      subgroup_min_size: ad.subgroupSize,
      limits: ad.limits,
    };
    out.dispatches = backend.dispatchCount;
    out.parameters = model.parameters.reduce((n, p) => n + p.shape.reduce((x, y) => x * y, 1), 0);

    try {
      stage = 'data';
      const data = loadRunData(model, undefined);
      const target = roles(model).target;
      const batches = [...iterateBatches(data.train, a.batch, { shuffle: false, dropLast: true })].map((x) => batchTensors(x, a.batch, target));
      if (!batches.length) throw new Error(`the synthetic training split has fewer than ${a.batch} samples`);
      await backend.setState(initTrainState(model.state, initParams(model.parameters, 1111)));

      stage = 'train steps';
      const times: number[] = [];
      const losses: number[] = [];
      const norms: number[] = [];
      for (let i = 0; i <= a.steps; i++) {
        if (i > 1 && performance.now() > deadline) {
          say(`budget of ${a.budgetS} s reached after ${i - 1} timed steps`);
          out.budget_reached = true;
          break;
        }
        t = performance.now();
        const { loss, gradNorm } = await backend.trainStep(batches[i % batches.length]!, 1 + i);
        const ms = performance.now() - t;
        if (i === 0) out.first_step_ms = round(ms);
        else times.push(ms);
        losses.push(loss);
        norms.push(gradNorm);
        say(`step ${i}${i === 0 ? ' (first: pipelines compile on first use)' : ''}: ${ms.toFixed(1)} ms, loss ${loss.toFixed(4)}`);
      }
      const med = median(times);
      Object.assign(out, {
        steps_timed: times.length,
        step_ms: times.map((x) => round(x)),
        median_step_ms: med === null ? null : round(med),
        min_step_ms: times.length ? round(Math.min(...times)) : null,
        samples_per_s: med ? round((a.batch * 1000) / med, 2) : null,
        losses: losses.map((x) => round(x, 6)),
        grad_norms: norms.map((x) => round(x, 6)),
        losses_finite: losses.every(Number.isFinite),
        // JSON writes NaN and ±Infinity as null: say so
        grad_norms_finite: norms.every(Number.isFinite),
      });

      if (a.profileTop > 0 && performance.now() < deadline) {
        stage = 'profile';
        say('per-kernel timings of one more step');
        const timings = await backend.profile(batches[0]!, 99);
        out.profile = {
          source: timings[0]?.source ?? null,
          kernels_summed_ms: round(timings.reduce((s, k) => s + k.ms, 0)),
          top: slowestKernels(timings, a.profileTop).map((e) => ({ label: e.label, ms: round(e.ms, 4), count: e.n })),
        };
      }
      // how many samples each generator ran on, then the same step without sample routing (same batches, same seeds)
      const routes = backend.train.plan.routing?.routes ?? [];
      const counts = await backend.train.executor.read(routes.map((r) => r.count));
      out.routing = { routes: routes.length, flagged: routes.map((r) => counts.get(r.count)![0]!), batch: a.batch };
      if (routes.length && performance.now() < deadline) {
        stage = 'train steps without routing';
        await backend.dispose();
        const plain = (await openBackend('gpu', compileModel(a.spec, { overrides, route: false }), { overrides })).backend as GpuBackend;
        try {
          await plain.setState(initTrainState(model.state, initParams(model.parameters, 1111)));
          const un: number[] = [];
          for (let i = 0; i <= Math.min(a.steps, 3) && performance.now() < deadline; i++) {
            t = performance.now();
            await plain.trainStep(batches[i % batches.length]!, 1 + i);
            if (i > 0) un.push(performance.now() - t);
          }
          const m = median(un);
          Object.assign(out.routing as object, { unrouted_steps_timed: un.length, unrouted_median_step_ms: m === null ? null : round(m), unrouted_dispatches: plain.dispatchCount.train });
          say(`without routing: median ${m === null ? '—' : m.toFixed(1)} ms over ${un.length} steps`);
        } finally {
          await plain.dispose();
        }
      }
    } finally {
      await backend.dispose();
    }
    out.ok = true;
    out.total_s = round((performance.now() - t0) / 1000);
    return finish(0);
  } catch (e) {
    const err = e as Error & { format?: () => string; diagnostics?: { code?: string; message?: string }[] };
    out.stage = stage;
    out.error = typeof err.format === 'function'
      ? err.format()
      : err?.diagnostics?.length
        ? err.diagnostics.map((d) => `${d.code ?? ''} ${d.message ?? ''}`.trim()).join('; ')
        : err?.message ?? String(e);
    say(`failed (${stage}): ${out.error as string}`);
    return finish(1);
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stdout.write(`${JSON.stringify({ ok: false, stage: 'internal', error: String(e) })}\n`);
    process.exit(1);
  },
);
