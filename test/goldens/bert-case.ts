// The BERT encoder golden: our `Bert` block (specs/lib/bert.smcir, through test/goldens/bert-encoder.smcir) at the
// widths of specs/smcir-bert-tiny.smcir, with the committed tiny checkpoint's weights loaded through runtime/weights
// (readHfBertFolder + the declared name map), on a batch of token ids with padding and two segments. The exported
// request holds the inputs only: scripts/torch_goldens.py loads the same checkpoint with torch.load into a
// hand-written Hugging Face BertModel, so the golden checks the name map end to end.
import { join } from 'node:path';
import { GraphBuilder, numel, type Graph } from '../../compiler/ir/graph.js';
import { gradients } from '../../compiler/autodiff.js';
import { checkSpec } from '../../compiler/check/index.js';
import { rngNormal, streamOf } from '../../runtime/abi/rng.js';
import { mapCheckpointNames, readHfBertFolder, SMCIR_BERT_NAME_MAP, type BertConfig } from '../../runtime/weights/index.js';

export const BERT_CASE = 'bert_tiny';
export const BERT_SPEC = new URL('./bert-encoder.smcir', import.meta.url).pathname;
export const ROOT = new URL('../../', import.meta.url).pathname;
/** The BERT of specs/smcir-bert-tiny.smcir in the original bert-base-uncased naming (scripts/bert_fixture.py). */
export const BERT_CHECKPOINT = 'test/fixtures/bert/smcir-bert-tiny';
export const BERT_L = 8;

/**
 * Eight token sequences (bert-base-uncased's [CLS] 101, [SEP] 102, [UNK] 100), each with its segment ids; shorter
 * ones are padded with id 0, mask 0, segment 0. Lengths 8, 7, 4, 2 ([CLS] [SEP] only), 5, 8, 6, 8; rows 1, 4, 6
 * and 7 are sentence pairs.
 */
const SEQUENCES: [number[], number[]][] = [
  [[101, 7, 33, 58, 92, 14, 61, 102], [0, 0, 0, 0, 0, 0, 0, 0]],
  [[101, 45, 12, 102, 88, 23, 102], [0, 0, 0, 0, 1, 1, 1]],
  [[101, 100, 64, 102], [0, 0, 0, 0]],
  [[101, 102], [0, 0]],
  [[101, 5, 102, 77, 102], [0, 0, 0, 1, 1]],
  [[101, 120, 3, 19, 41, 27, 9, 102], [0, 0, 0, 0, 0, 0, 0, 0]],
  [[101, 66, 66, 102, 31, 102], [0, 0, 0, 0, 1, 1]],
  [[101, 127, 50, 13, 102, 8, 99, 102], [0, 0, 0, 0, 0, 1, 1, 1]],
];
export const BERT_BATCH = SEQUENCES.length;

/** Token ids, attention mask and segment ids, each [B, L] row-major. */
export function tokenBatch(): { ids: Float32Array; mask: Float32Array; seg: Float32Array } {
  const ids = new Float32Array(BERT_BATCH * BERT_L);
  const mask = new Float32Array(BERT_BATCH * BERT_L);
  const seg = new Float32Array(BERT_BATCH * BERT_L);
  SEQUENCES.forEach(([t, s], b) => {
    for (let i = 0; i < t.length; i++) {
      ids[b * BERT_L + i] = t[i]!;
      mask[b * BERT_L + i] = 1;
      seg[b * BERT_L + i] = s[i]!;
    }
  });
  return { ids, mask, seg };
}

export interface BertWeights {
  values: Map<string, Float32Array>;
  /** Spec name → checkpoint name. */
  sources: Map<string, string>;
  sha256: string;
  config: BertConfig;
}

/** The checkpoint's tensors for the `bert.*` parameters of a graph, as `smcirc train --init bert=…` maps them. */
export function loadBertWeights(graph: Graph): BertWeights {
  const folder = readHfBertFolder(join(ROOT, BERT_CHECKPOINT));
  const targets = graph.params.map((p) => ({ name: p.name, shape: p.shape }));
  const mapped = mapCheckpointNames(folder.tensors, targets, { prefix: 'bert.', nameMap: SMCIR_BERT_NAME_MAP, file: folder.file });
  const values = new Map<string, Float32Array>();
  for (const [name, t] of mapped.tensors) values.set(name, t.data);
  return { values, sources: mapped.sources, sha256: folder.sha256, config: folder.config };
}

export interface BertCase {
  /** The encoder's forward (`hidden` [B, L, 16]) plus `grad:<param>` of Σ hidden · cot for every parameter. */
  graph: Graph;
  forward: Graph;
  gradNames: string[];
  /** The spec's constants (T_L, d_L, bert_*), named as in specs/smcir-bert.smcir. */
  constants: Record<string, unknown>;
}

export function buildBertCase(): BertCase {
  const r = checkSpec(BERT_SPEC, { batch: BERT_BATCH, training: false });
  if (!r.ok || !r.graph || !r.elaborated) throw new Error(`bert-encoder.smcir does not check: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  const g = GraphBuilder.from(r.graph);
  const hidden = r.graph.outputs.get('hidden')!;
  const cot = g.input('cot', g.shape(hidden));
  const prod = g.mul(hidden, cot);
  const loss = g.sum(prod, g.shape(prod).map((_, i) => i));
  const grads = gradients(g, loss, r.graph.params.map((p) => p.node));
  const gradNames: string[] = [];
  for (const p of r.graph.params) {
    const id = grads.get(p.node);
    if (id === undefined) throw new Error(`bert golden: no gradient for ${p.name}`);
    g.output(`grad:${p.name}`, id);
    gradNames.push(`grad:${p.name}`);
  }
  return { graph: g.build(), forward: r.graph, gradNames, constants: r.elaborated.constants };
}

/**
 * The cotangent of the scalar loss Σ hidden · cot: N(0, 1) draws of the §8 generator over B·L, so the loss is a mean
 * over tokens and the gradients have the size of the model golden's (whose loss is a mean too): with a plain sum
 * they are ~50× larger, and f32 rounding alone (PyTorch's as ours) exceeds atol 1e-5 where attention gradients cancel.
 */
export function bertCot(n: number): Float32Array {
  const st = streamOf('cot');
  return Float32Array.from({ length: n }, (_, i) => rngNormal(77, st, i) / (BERT_BATCH * BERT_L));
}

/** The exported request: the inputs (weights come from the checkpoint on both sides). */
export function bertFeeds(c: BertCase): [string, number[], Float32Array][] {
  const { ids, mask, seg } = tokenBatch();
  const shape = (n: string): number[] => c.graph.nodes[c.graph.inputs.get(n)!]!.shape;
  return [['in:ids', shape('ids'), ids], ['in:mask', shape('mask'), mask], ['in:seg', shape('seg'), seg], ['in:cot', shape('cot'), bertCot(numel(shape('cot')))]];
}

export function bertMeta(c: BertCase): unknown {
  return { checkpoint: BERT_CHECKPOINT, sha256: loadBertWeights(c.forward).sha256 };
}
