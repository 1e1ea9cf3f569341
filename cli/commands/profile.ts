// `smcirc profile`: per-kernel timings of one train step on the GPU (timestamp queries where the adapter has
// them, wall time per dispatch otherwise), the slowest kernels first.

import { compileModel } from '../../compiler/compile.js';
import { initParams, initTrainState } from '../../runtime/abi/init.js';
import type { GpuBackend } from '../../runtime/backends/gpu.js';
import { openBackend } from '../../runtime/backends/index.js';
import { iterateBatches } from '../../runtime/data/index.js';
import { batchTensors, loadRunData, roles } from '../../runtime/train/data-source.js';
import { TrainingStopped } from '../../runtime/train/loop.js';
import { slowestKernels } from '../../runtime/gpu/executor.js';

export async function runProfile(spec: string, o: { set: string[]; top: number; data?: string; route?: boolean }): Promise<number> {
  const compiled = compileModel(spec, { overrides: o.set, route: o.route });
  const { backend: b, abi: model } = await openBackend('gpu', compiled, { overrides: o.set });
  const backend = b as GpuBackend;
  try {
    const data = loadRunData(model, o.data);
    await backend.setState(initTrainState(model.state, initParams(model.parameters, 1111)));
    const first = iterateBatches(data.train, model.settings.train.batch_size, { shuffle: false, dropLast: true }).next();
    if (first.done) {
      throw new TrainingStopped('SMC5001', `the training split has ${data.train.n} samples, fewer than one batch of ${model.settings.train.batch_size}`, 'lower the batch size, e.g. --set train.batch_size=8');
    }
    const timings = await backend.profile(batchTensors(first.value, model.settings.train.batch_size, roles(model).target));
    const total = timings.reduce((a, t) => a + t.ms, 0);
    const rows = slowestKernels(timings, o.top);
    const d = backend.dispatchCount;
    const lines = [
      `train step: ${d.train} dispatches, ${total.toFixed(2)} ms summed over kernels (${timings[0]?.source ?? 'none'} timing); forward: ${d.forward} dispatches; ${d.kernels} kernels`,
      ...rows.map((e) => `${e.ms.toFixed(3).padStart(9)} ms  ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${e.n > 1 ? `×${e.n} ` : ''}${e.label}`),
    ];
    lines.push(...(await routingLines(backend)));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await backend.dispose();
  }
  return 0;
}

/** Per route of the train step: the flagged count of the profiled batch and the extents the routed kernels ran to. */
async function routingLines(backend: GpuBackend): Promise<string[]> {
  const { plan, executor } = backend.train;
  const routes = plan.routing?.routes ?? [];
  if (routes.length === 0) return ['sample routing: none (no `where` with a per-sample mask, or --no-route)'];
  const counts = await executor.read(routes.map((r) => r.count));
  const bounds = await executor.routedBounds();
  return routes.map((r, i) => {
    const mine = plan.dispatches.filter((d) => d.routed?.route === i);
    const full = mine.reduce((a, d) => a + d.routed!.bound.items, 0);
    const ran = plan.dispatches.reduce((a, d, j) => a + (d.routed?.route === i ? bounds.get(j)! : 0), 0);
    const label = mine[0]?.label.split('/')[0] ?? 'route';
    return `sample routing: route ${i} (${label}…): ${counts.get(r.count)![0]} of ${r.batch} samples flagged; ${mine.length} dispatches ran ${ran} of ${full} items`;
  });
}
