// `npm run bench`: GPU benchmarks on the default adapter; prints a table and the ratios measured in one process.
import { openGpu } from '../runtime/gpu/device.js';
import { GpuError } from '../runtime/gpu/errors.js';
import { selectKernelConfig } from '../compiler/kernels/select.js';
import { benchMatmul } from './matmul.js';
import { benchTrainStep } from './train-step.js';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const ctx = await openGpu();
  const cfg = selectKernelConfig(ctx.adapter);
  const a = ctx.adapter;
  console.log(`adapter: ${a.description || a.device} (${a.vendor}, ${a.architecture}${a.isSoftware ? ', software' : ''})`);
  console.log('\nmatmul (f32, median of runs, several dispatches per submit):');
  console.log('| shape | kernel | GFLOP/s | ms |');
  console.log('|---|---|---|---|');
  const figs = await benchMatmul(ctx, cfg, quick);
  for (const f of figs) console.log(`| ${f.shape} | ${f.variant} | ${f.gflops.toFixed(2)} | ${f.msPerMatmul.toFixed(1)} |`);
  for (let i = 0; i + 1 < figs.length; i += 2) {
    console.log(`speed-up tiled/naive at ${figs[i]!.shape}: ${(figs[i + 1]!.gflops / figs[i]!.gflops).toFixed(1)}×`);
  }
  const spec = new URL('../../specs/smcir-tiny.smcir', import.meta.url).pathname;
  console.log('\nsmcir-tiny train step (batch 8; forward + loss + backward + clip + Adam; median of 10 steps after one warm-up):');
  console.log('| mode | optimizer | dispatches | pipelines | state copies | load ms | first step ms (JIT) | ms/step |');
  console.log('|---|---|---|---|---|---|---|---|');
  const st = await benchTrainStep(ctx, spec, quick ? 3 : 10);
  for (const f of st) {
    console.log(`| ${f.mode} | ${f.optimizer} | ${f.dispatches} | ${f.pipelines} | ${f.copies} | ${f.loadMs.toFixed(0)} | ${f.firstStepMs.toFixed(0)} | ${f.msPerStep.toFixed(1)} |`);
  }
  const [fused, ...unfused] = st;
  for (const u of unfused) {
    console.log(`fused vs unfused (${u.optimizer}): ${(u.dispatches / fused!.dispatches).toFixed(2)}× fewer dispatches, ${(u.msPerStep / fused!.msPerStep).toFixed(2)}× faster per step`);
  }
  ctx.destroy();
}

main().catch((e: unknown) => {
  if (e instanceof GpuError) {
    console.error(e.format());
    process.exit(1);
  }
  throw e;
});
