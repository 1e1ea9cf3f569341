// `npm run bench`: GPU benchmarks on the default adapter; prints a table and the ratios measured in one process (matmul
// templates, fusion, sample routing), then smcirc against PyTorch eager on the same machine (bench/peer.ts; `--peer`
// runs that section alone, `--no-peer` skips it).
import { openGpu } from '../runtime/gpu/device.js';
import { GpuError } from '../runtime/gpu/errors.js';
import { selectKernelConfig } from '../compiler/kernels/select.js';
import { benchMatmul } from './matmul.js';
import { benchTrainStep } from './train-step.js';
import { peerOptionsFromArgv, runPeerSection } from './peer.js';
import { benchRouting } from './routing.js';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  let peer: ReturnType<typeof peerOptionsFromArgv>;
  try {
    peer = peerOptionsFromArgv(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  if (peer.only) {
    await runPeerSection(peer);
    return;
  }
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
  // sample routing: generators large enough that their compute shows, 2 of 16 samples lose vision and 2 audio
  const routingSize = ['T_L=20', 'd_L=64', 'T_V=100', 'T_A=80', 'hidden2=32', 'train.batch_size=16', 'eval.batch_size=16'];
  console.log(`\nsample routing (smcir-tiny with ${routingSize.slice(0, 5).join(' ')}, batch 16; median of ${quick ? 3 : 7} steps):`);
  console.log('| routing | samples per route | train dispatches (routed) | train step ms | forward ms |');
  console.log('|---|---|---|---|---|');
  const rt = await benchRouting(spec, routingSize, 2, quick ? 3 : 7);
  for (const f of rt) {
    console.log(`| ${f.routed ? 'on' : 'off (--no-route)'} | ${f.counts.length ? f.counts.join(', ') : '16 (all)'} | ${f.dispatches.train} (${f.dispatches.routed}) | ${f.trainMs.toFixed(1)} | ${f.forwardMs.toFixed(1)} |`);
  }
  const [off, on] = rt;
  console.log(`routing on vs off: train step ${(off!.trainMs / on!.trainMs).toFixed(2)}× faster, forward ${(off!.forwardMs / on!.forwardMs).toFixed(2)}× faster`);
  if (!peer.skip) await runPeerSection(peer);
}

main().catch((e: unknown) => {
  if (e instanceof GpuError) {
    console.error(e.format());
    process.exit(1);
  }
  throw e;
});
