// `npm run bench`: GPU benchmarks on the default adapter; prints a table and the ratios measured in one process.
import { openGpu } from '../runtime/gpu/device.js';
import { GpuError } from '../runtime/gpu/errors.js';
import { selectKernelConfig } from '../compiler/kernels/select.js';
import { benchMatmul } from './matmul.js';

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
  ctx.destroy();
}

main().catch((e: unknown) => {
  if (e instanceof GpuError) {
    console.error(e.format());
    process.exit(1);
  }
  throw e;
});
