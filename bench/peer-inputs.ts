// What smcirc and its PyTorch peer share in the peer benchmark: one spec's train step at a batch (eval mode, dropout
// off), the §8 init at seed 1111 and the first `batch` samples of the spec's built-in synthetic training split (planted
// missingness included), written as safetensors for bench/peer/smcir_step.py (--weights, --data). No GPU here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { numel, type Graph } from '../compiler/ir/graph.js';
import { checkSpec } from '../compiler/check/index.js';
import { buildTrainStep, trainStepOptionsFromSettings, type TrainStep } from '../compiler/train-step.js';
import { initParams } from '../runtime/abi/init.js';
import { makeSyntheticDataset } from '../runtime/data/index.js';
import { encodeSafetensors } from '../runtime/train/safetensors.js';
import { routeSamples, type Route } from '../compiler/passes/route-samples.js';

export interface PeerInputs {
  graph: Graph;
  step: TrainStep;
  /** Sample routes of the step (compiler/passes/route-samples.ts; empty with route = false). */
  routes: Route[];
  params: Map<string, Float32Array>;
  /** text, vision, audio, label. */
  feeds: Map<string, Float32Array>;
  /** The files written: parameters under smcirc's (= PyTorch's) names; the batch. */
  weights: string;
  data: string;
}

export function preparePeerInputs(spec: string, batch: number, outDir: string, tag: string, route = true): PeerInputs {
  const r = checkSpec(spec, { withLoss: true, batch, training: false });
  if (!r.ok || !r.graph || !r.settings) throw new Error(`${spec} does not check: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  const { graph: g, routes } = route ? routeSamples(r.graph) : { graph: r.graph, routes: [] };
  const step = buildTrainStep(g, trainStepOptionsFromSettings(r.settings.train, 'loss'));
  const params = initParams(g.params, 1111);
  const shapeOf = (name: string): number[] => {
    const id = g.inputs.get(name);
    if (id === undefined) throw new Error(`${spec} has no input ${name}`);
    return [...g.nodes[id]!.shape];
  };
  const [tS, vS, aS] = (['text', 'vision', 'audio'] as const).map((m) => shapeOf(m).slice(1) as [number, number]) as [[number, number], [number, number], [number, number]];
  const s = r.settings.data.synthetic;
  const ds = makeSyntheticDataset({
    seed: s.seed, nTrain: batch, nValid: 1, nTest: 1,
    textLen: tS[0], textDim: tS[1], visionLen: vS[0], visionDim: vS[1], audioLen: aS[0], audioDim: aS[1],
    missing: s.missing_rate > 0 ? { rate: s.missing_rate, kinds: ['zero', 'noise', 'drop'] } : undefined,
  }).train;
  const feeds = new Map<string, Float32Array>([['text', ds.text], ['vision', ds.vision], ['audio', ds.audio], ['label', ds.labels]]);
  for (const [name, v] of feeds) if (numel(shapeOf(name)) !== v.length) throw new Error(`${spec}: input ${name} is not the synthetic set's shape`);

  mkdirSync(outDir, { recursive: true });
  const weights = join(outDir, `${tag}.weights.safetensors`);
  const data = join(outDir, `${tag}.data.safetensors`);
  writeFileSync(weights, encodeSafetensors(new Map(g.params.map((p) => [p.name, { shape: [...p.shape], data: params.get(p.name)! }])), { source: 'smcirc bench/peer-inputs.ts', init_seed: '1111' }));
  writeFileSync(data, encodeSafetensors(new Map([...feeds].map(([k, v]) => [k, { shape: shapeOf(k), data: v }])), { source: 'smcirc bench/peer-inputs.ts', synthetic_seed: String(s.seed) }));
  return { graph: g, step, routes, params, feeds, weights, data };
}
