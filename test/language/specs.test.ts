// The shipped specs: each checks clean, and the released-code SMCIR reproduces the parameter counts of the
// reference (§15: MOSI 55,359,507 in the module, 16,641 in the head; MOSEI 55,460,463).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkSpec, summarizeParams } from '../../compiler/check/index.js';
import { graphProblems } from '../../compiler/ir/validate.js';
import { compileModel } from '../../compiler/compile.js';

const specs = join(import.meta.dirname, '../../specs');
const all = [
  ...readdirSync(specs).filter((f) => f.endsWith('.smcir')).map((f) => join(specs, f)),
  ...readdirSync(join(specs, 'ablations')).map((f) => join(specs, 'ablations', f)),
];

function counts(path: string, overrides: string[] = []) {
  const r = checkSpec(path, { overrides, withLoss: true, training: true });
  expect(r.diagnostics).toEqual([]);
  const s = summarizeParams(r);
  const row = (name: string) => s.rows.find((x) => x.instance === name)!;
  return { r, s, row };
}

describe('shipped specs', () => {
  test.each(all.map((p) => [p.slice(specs.length + 1), p]))('%s checks with no diagnostics', (_name, path) => {
    const r = checkSpec(path, { withLoss: true, training: true });
    expect(r.diagnostics).toEqual([]);
    expect(r.elaborated?.loss).toBeDefined();
    expect([...r.elaborated!.outputs.keys()]).toEqual(expect.arrayContaining(['pred', 'state_v', 'state_a']));
    // the elaborated graph passes the IR validator (every shape re-derived, topological order, ids)
    expect(graphProblems(r.graph!)).toEqual([]);
  });

  test('smcir.smcir (MOSI) has the parameter counts of the reference', () => {
    const { s, row } = counts(join(specs, 'smcir.smcir'));
    expect(row('dmfd').frozen).toBe(101_888);
    expect(row('dmfd').trainable).toBe(0);
    expect(row('cmcg').trainable).toBe(54_955_411);
    expect(row('fusion').trainable).toBe(302_208);
    expect(row('head').trainable).toBe(16_641);
    expect(s.trainable + s.frozen - row('head').trainable).toBe(55_359_507);
  });

  test('smcir-mosei.smcir has the MOSEI counts', () => {
    const { s, row } = counts(join(specs, 'smcir-mosei.smcir'));
    expect(row('dmfd').frozen).toBe(112_640);
    expect(row('cmcg').trainable).toBe(55_024_111);
    expect(row('fusion').trainable).toBe(323_712);
    expect(s.trainable + s.frozen - row('head').trainable).toBe(55_460_463);
  });

  test('smcir-bert.smcir: BERT as bert-base-uncased has it without the pooler, plus the released SMCIR', () => {
    const { s, row, r } = counts(join(specs, 'smcir-bert.smcir'));
    expect(row('bert').trainable).toBe(108_891_648);
    const names = r.graph!.params.map((p) => p.name);
    const size = (n: string) => r.graph!.params.find((p) => p.name === n)!.shape.reduce((a, b) => a * b, 1);
    const embeddings = names.filter((n) => n.startsWith('bert.embeddings.')).reduce((a, n) => a + size(n), 0);
    expect(embeddings).toBe(23_837_184);
    for (let i = 0; i < 12; i++) {
      const layer = names.filter((n) => n.startsWith(`bert.encoder.layer.${i}.`)).reduce((a, n) => a + size(n), 0);
      expect(layer).toBe(7_087_872);
    }
    expect(names).toEqual(expect.arrayContaining([
      'bert.embeddings.word_embeddings.weight', 'bert.embeddings.position_embeddings.weight', 'bert.embeddings.token_type_embeddings.weight',
      'bert.embeddings.LayerNorm.weight', 'bert.encoder.layer.11.attention.self.query.weight', 'bert.encoder.layer.0.attention.out.LayerNorm.bias',
      'bert.encoder.layer.0.intermediate.dense.weight', 'bert.encoder.layer.0.out.dense.bias',
    ]));
    expect(s.trainable + s.frozen - row('head').trainable - row('bert').trainable).toBe(55_359_507);
    expect(row('head').trainable).toBe(16_641);
    // the released parameter groups: BERT biases and LayerNorm weights without weight decay
    expect(r.settings!.train.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['bert_no_decay', 'head_bias']));
    expect(r.settings!.data.text_vocab).toBe(30522);
  });

  test('repeat(n, Block(...)) makes n instances named by index, applied in turn', () => {
    const text = (n: string) => `dim B
input x: [B, 4]
target label: [B]
block Step(d: int) {
  lin = Linear(d, d)
  forward(h, scale) {
    return tanh(lin(h)) * scale
  }
}
model M {
  steps = repeat(${n}, Step(4))
  out = Linear(4, 1)
  forward(x) {
    output pred = out(steps(x, 2))[:, 0]
    output state_v = pred * 0
    output state_a = pred * 0
  }
}
train { loss = l1(pred, label) }
`;
    const r = checkSpec('repeat.smcir', { text: text('3'), withLoss: true, training: true, batch: 2 });
    expect(r.diagnostics).toEqual([]);
    expect(r.graph!.params.map((p) => p.name).filter((n) => n.startsWith('steps.'))).toEqual([
      'steps.0.lin.weight', 'steps.0.lin.bias', 'steps.1.lin.weight', 'steps.1.lin.bias', 'steps.2.lin.weight', 'steps.2.lin.bias',
    ]);
    // the three instances are chained: three tanh nodes
    expect(r.graph!.nodes.filter((n) => n.attrs.op === 'unary' && n.attrs.fn === 'tanh').length).toBe(3);
    const bad = checkSpec('repeat.smcir', { text: text('0'), withLoss: true, training: true, batch: 2 });
    expect(bad.diagnostics.map((d) => d.message)).toEqual(['`repeat` needs a whole count from 1 to 1000, got 0']);
  });

  test('instantiating a block twice gives two parameter sets; an override changes the graph', () => {
    const { r } = counts(join(specs, 'smcir.smcir'));
    const names = r.graph!.params.map((p) => p.name);
    expect(names).toContain('cmcg.gen_v.lstm.weight_ih_l0');
    expect(names).toContain('cmcg.gen_a.lstm.weight_ih_l0');
    const eta = counts(join(specs, 'smcir.smcir'), ['eta=0.4', 'train.lr=1e-3']);
    expect(eta.r.settings!.train.lr).toBe(1e-3);
  });

  test('the compiled train step and evaluation graph of smcir-tiny pass the IR validator', () => {
    const m = compileModel(join(specs, 'smcir-tiny.smcir'));
    expect(graphProblems(m.train.graph)).toEqual([]);
    expect(graphProblems(m.eval)).toEqual([]);
  });

  test('the ablations remove what they say', () => {
    const full = counts(join(specs, 'smcir.smcir'));
    const noMsse = counts(join(specs, 'ablations/table3-no-msse.smcir'));
    expect(full.row('cmcg').trainable - noMsse.row('cmcg').trainable).toBe(2 * 7_303_200);
    const noCmcg = counts(join(specs, 'ablations/table3-no-cmcg.smcir'));
    expect(noCmcg.row('cmcg').trainable).toBe(0);
  });
});
