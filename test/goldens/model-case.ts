// The whole-model goldens: a spec elaborated at batch 8 (eval mode: dropout off), §8 init seed 1111, one batch that
// exercises every DMFD state (vision missing, audio missing, both, none) and its train step.
//   model_tiny       specs/smcir-tiny.smcir: the text input is BERT features [B, T_L, d_L]
//   model_bert_tiny  specs/smcir-bert-tiny.smcir: the text input is token ids [B, 3, T_L] (ids, mask, segments) into
//                    a 2-layer BERT whose weights come from the committed tiny checkpoint through the name map
import { numel, type Graph } from '../../compiler/ir/graph.js';
import { checkSpec } from '../../compiler/check/index.js';
import { buildTrainStep, paramGroup, trainStepOptionsFromSettings, type TrainStep, type TrainStepOptions } from '../../compiler/train-step.js';
import { initParams } from '../../runtime/abi/init.js';
import { rngNormal, streamOf } from '../../runtime/abi/rng.js';
import { BERT_CHECKPOINT, BERT_L, loadBertWeights, tokenBatch } from './bert-case.js';

export interface ModelCaseDef {
  name: string;
  spec: string;
  batch: number;
  /** Samples whose vision / audio features are zeroed. */
  zeroV: number[];
  zeroA: number[];
  /** `features`: N(0, 1) text features; `tokens`: the token-id batch of bert-case.ts, BERT from the checkpoint. */
  text: 'features' | 'tokens';
}

export const MODEL_TINY: ModelCaseDef = {
  name: 'model_tiny',
  spec: new URL('../../specs/smcir-tiny.smcir', import.meta.url).pathname,
  batch: 8,
  zeroV: [0, 1, 4], // sample 4: both
  zeroA: [2, 3, 4],
  text: 'features',
};

export const MODEL_BERT_TINY: ModelCaseDef = {
  name: 'model_bert_tiny',
  spec: new URL('../../specs/smcir-bert-tiny.smcir', import.meta.url).pathname,
  batch: 8,
  zeroV: [0, 1, 4],
  zeroA: [2, 3, 4],
  text: 'tokens',
};

export const MODEL_CASES = [MODEL_TINY, MODEL_BERT_TINY];

// the smcir-tiny case under its original names
export const MODEL_CASE = MODEL_TINY.name;
export const MODEL_SPEC = MODEL_TINY.spec;
export const MODEL_BATCH = MODEL_TINY.batch;
export const ZERO_V = MODEL_TINY.zeroV;
export const ZERO_A = MODEL_TINY.zeroA;

export interface ModelCase {
  def: ModelCaseDef;
  graph: Graph;
  step: TrainStep;
  opts: TrainStepOptions;
}

export function buildModelCase(def: ModelCaseDef = MODEL_TINY): ModelCase {
  const r = checkSpec(def.spec, { withLoss: true, batch: def.batch, training: false });
  if (!r.ok || !r.graph || !r.settings) throw new Error(`${def.spec} does not check: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  const opts = trainStepOptionsFromSettings(r.settings.train, 'loss');
  return { def, graph: r.graph, step: buildTrainStep(r.graph, opts), opts };
}

/** [B, 3, L]: per sample its ids, attention mask and segment ids (MMSA's `text_bert` layout). */
function textTokens(B: number): Float32Array {
  const { ids, mask, seg } = tokenBatch();
  if (ids.length !== B * BERT_L) throw new Error(`the token batch has ${ids.length / BERT_L} samples, the case ${B}`);
  const a = new Float32Array(B * 3 * BERT_L);
  for (let b = 0; b < B; b++) {
    [ids, mask, seg].forEach((src, k) => a.set(src.subarray(b * BERT_L, (b + 1) * BERT_L), (b * 3 + k) * BERT_L));
  }
  return a;
}

export function modelFeeds(c: ModelCase): [string, number[], Float32Array][] {
  const { def } = c;
  const t: [string, number[], Float32Array][] = [];
  for (const [name, id] of c.graph.inputs) {
    const shape = c.graph.nodes[id]!.shape;
    const n = numel(shape);
    if (name === 'text' && def.text === 'tokens') {
      t.push([`in:${name}`, shape, textTokens(def.batch)]);
      continue;
    }
    const a = new Float32Array(n);
    const st = streamOf(name);
    for (let i = 0; i < n; i++) a[i] = name === 'label' ? 3 * Math.tanh(rngNormal(5, st, i)) : rngNormal(5, st, i);
    const zero = name === 'vision' ? def.zeroV : name === 'audio' ? def.zeroA : [];
    const per = n / def.batch;
    for (const b of zero) a.fill(0, b * per, (b + 1) * per);
    t.push([`in:${name}`, shape, a]);
  }
  const init = initParams(c.graph.params, 1111);
  const bert = def.text === 'tokens' ? loadBertWeights(c.graph).values : new Map<string, Float32Array>();
  for (const p of c.graph.params) t.push([`param:${p.name}`, p.shape, bert.get(p.name) ?? init.get(p.name)!]);
  return t;
}

/** What torch_goldens.py needs to rebuild the optimiser: per-parameter group, lr, weight decay, frozen; the checkpoint. */
export function modelMeta(c: ModelCase): unknown {
  return {
    train: { eps: c.opts.eps, betas: c.opts.betas, maxGradNorm: c.opts.maxGradNorm },
    params: Object.fromEntries(c.graph.params.map((p) => {
      const g = paramGroup(p, c.opts);
      return [p.name, { group: g.group, lr: g.lr, weightDecay: g.weightDecay, frozen: p.frozen }];
    })),
    ...(c.def.text === 'tokens' ? { bert: { checkpoint: BERT_CHECKPOINT, sha256: loadBertWeights(c.graph).sha256 } } : {}),
  };
}
