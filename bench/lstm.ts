// LSTM recurrence benchmark: one BiLSTM layer's forward and backward recurrences (kernel IR → WGSL → the default
// adapter) at the full SMCIR's sizes (H = 256, T = 50, batch 4 by default): both directions as two lanes of one
// dispatch against one dispatch per direction, and the backward's two ways of reading W_hh ('packed', 'rows').
//
//   npm run build && node dist/bench/lstm.js [--quick] [--size B,T,H]
//
// Prints wall and process CPU milliseconds per layer (both directions), median of the runs. On a software adapter
// the CPU time is the steadier figure on a shared machine: llvmpipe runs the workgroups on this process's threads.
import { openGpu, type GpuContext } from '../runtime/gpu/device.js';
import { GpuError } from '../runtime/gpu/errors.js';
import { selectKernelConfig, type KernelConfig } from '../compiler/kernels/select.js';
import { buildDispatchPlan, type ProgramTensor } from '../compiler/kernels/plan.js';
import type { Kernel, LstmBackwardKernel, LstmForwardKernel, SeqView } from '../compiler/kernels/ir.js';
import { Executor } from '../runtime/gpu/executor.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The recurrences of one layer: `lanes` per kernel (2: both directions in one dispatch; 1: one kernel per direction). */
function layerKernels(B: number, T: number, H: number, lanesPerKernel: 1 | 2): { fwd: Kernel[]; bwd: Kernel[]; tensors: ProgramTensor[] } {
  const seq = (offset: number, width: number): SeqView => ({ offset, batchStride: T * width, timeStride: width });
  const laneSeq = (l: number): SeqView => ({ offset: l * B * T * 4 * H, batchStride: T * 4 * H, timeStride: 4 * H });
  const size: Record<string, number> = {
    xproj: 2 * B * T * 4 * H, whhp: 2 * 4 * H * H, 'whh.0': 4 * H * H, 'whh.1': 4 * H * H, hc: B * T * 4 * H, gates: 2 * B * T * 4 * H,
    dout: B * T * 4 * H, dgates: 2 * B * T * 4 * H, dc: 2 * B * H,
  };
  const d = (name: string) => ({ name, size: size[name]! });
  const groups = lanesPerKernel === 2 ? [[0, 1]] : [[0], [1]];
  const fwd: LstmForwardKernel[] = groups.map((ls) => ({
    kind: 'lstm-forward', name: `lstm.fwd.${ls.join('')}`, batch: B, steps: T, hidden: H,
    lanes: ls.map((l) => ({ reverse: l === 1, xproj: laneSeq(l), h: seq(l * H, 4 * H), c: seq((2 + l) * H, 4 * H), gates: laneSeq(l) })),
    inputs: [d('xproj'), d('whhp')], outputs: [d('hc'), d('gates')],
    whh: { offset: ls[0]! * 4 * H * H, laneStride: 4 * H * H },
  }));
  const bwd: LstmBackwardKernel[] = groups.map((ls) => ({
    kind: 'lstm-backward', name: `lstm.bwd.${ls.join('')}`, batch: B, steps: T, hidden: H,
    lanes: ls.map((l, i) => ({
      reverse: l === 1, dh: seq(l * H, 4 * H), dc: seq((2 + l) * H, 4 * H), c: seq((2 + l) * H, 4 * H), gates: laneSeq(l), dgates: laneSeq(l), whh: 4 + i,
    })),
    inputs: [d('dout'), d('gates'), d('hc'), d('whhp'), ...ls.map((l) => d(`whh.${l}`))], outputs: [d('dgates'), d('dc')],
    whhPacked: { input: 3, offset: ls[0]! * 4 * H * H, laneStride: 4 * H * H },
  }));
  const inputs = new Set(['xproj', 'whhp', 'whh.0', 'whh.1', 'dout']);
  const tensors = Object.entries(size).map(([name, n]): ProgramTensor => ({ name, size: n, role: inputs.has(name) ? 'input' : 'output' }));
  return { fwd, bwd, tensors };
}

function randn(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return ((s / 4294967296) * 2 - 1) * scale;
  });
}

/** Wall and CPU ms of the forward dispatches and of the backward ones (medians over `runs`, after a warm-up step that also compiles). */
async function time(ctx: GpuContext, cfg: KernelConfig, fwd: Kernel[], bwd: Kernel[], tensors: ProgramTensor[], runs: number): Promise<{ wall: number; cpu: number }[]> {
  const plan = buildDispatchPlan({ tensors, kernels: [...fwd, ...bwd] }, cfg);
  const ex = await Executor.load(ctx, plan);
  try {
    let seed = 7;
    for (const t of tensors) if (t.role === 'input') ex.write(t.name, randn(t.size, seed++, t.name.startsWith('whh') ? 0.06 : 1));
    await ex.step();
    const nf = plan.dispatches.filter((d) => d.source < fwd.length).length;
    const out: { wall: number; cpu: number }[] = [];
    for (const [from, to] of [[0, nf], [nf, plan.dispatches.length]] as const) {
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < runs; r++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await ex.runRange(from, to);
        wall.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      out.push({ wall: median(wall), cpu: median(cpu) });
    }
    return out;
  } finally {
    ex.destroy();
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizeArg = process.argv[process.argv.indexOf('--size') + 1];
  const [B, T, H] = process.argv.includes('--size') && sizeArg ? sizeArg.split(',').map(Number) as [number, number, number] : [4, 50, 256];
  const runs = quick ? 3 : 7;
  const ctx = await openGpu();
  const cfg = selectKernelConfig(ctx.adapter);
  const a = ctx.adapter;
  console.log(`adapter: ${a.description || a.device} (${a.vendor}, ${a.architecture}${a.isSoftware ? ', software' : ''}); lstm config ${JSON.stringify(cfg.lstm)}`);
  console.log(`BiLSTM layer recurrences, batch ${B}, ${T} steps, hidden ${H}; ms per layer (both directions), median of ${runs}:`);
  console.log('| lanes per dispatch | backward reads W_hh | forward: dispatches, wall ms, CPU ms | backward: dispatches, wall ms, CPU ms |');
  console.log('|---|---|---|---|');
  for (const lanes of [2, 1] as const) {
    const { fwd, bwd, tensors } = layerKernels(B, T, H, lanes);
    for (const backward of ['packed', 'rows'] as const) {
      const [f, b] = await time(ctx, { ...cfg, lstm: { ...cfg.lstm, backward } }, fwd, bwd, tensors, runs);
      const sel = backward === cfg.lstm.backward ? ' (selected)' : '';
      console.log(`| ${lanes} | ${backward}${sel} | ${fwd.length}, ${f!.wall.toFixed(1)}, ${f!.cpu.toFixed(1)} | ${bwd.length}, ${b!.wall.toFixed(1)}, ${b!.cpu.toFixed(1)} |`);
    }
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
