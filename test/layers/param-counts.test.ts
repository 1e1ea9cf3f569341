// Parameter counts of the released model's blocks (reference §15), built directly from the layer library.
import { describe, expect, it } from 'vitest';
import { GraphBuilder, numel } from '../../compiler/ir/graph.js';
import { linear, lstm, msse, transformerEncoder, multiheadAttention } from '../../compiler/layers/index.js';

const count = (g: GraphBuilder): number => g.params.reduce((a, p) => a + numel(p.shape), 0);

describe('parameter counts (reference §15)', () => {
  it('TransformerEncoder d512, 2 layers, final LN = 6,305,792 (both modes)', () => {
    for (const mixTime of [false, true]) {
      const g = new GraphBuilder();
      g.scoped('enc', () => transformerEncoder(g, g.input('x', [1, 4, 512]), { dModel: 512, heads: 8, layers: 2, mixTime, causal: true }));
      expect(count(g)).toBe(6_305_792);
      expect(g.params.map((p) => p.name)).toContain('enc.layers.1.self_attn.in_proj_weight');
      expect(g.params.map((p) => p.name)).toContain('enc.layer_norm.weight');
    }
  });
  it('BiLSTM 768→256×2, 4 layers = 6,832,128', () => {
    const g = new GraphBuilder();
    lstm(g, g.input('x', [1, 3, 768]), { input: 768, hidden: 256, layers: 4, bidirectional: true });
    expect(count(g)).toBe(6_832_128);
    expect(g.params.map((p) => p.name)).toContain('weight_hh_l3_reverse');
  });
  it('MSSE 768 channels = 7,303,200', () => {
    const g = new GraphBuilder();
    msse(g, g.input('c', [1, 5, 768]), { channels: 768 });
    expect(count(g)).toBe(7_303_200);
  });
  it('one generator ≈ 20.58 M; FusionNetwork MOSI fusion_v = 6,898,176; head = 16,641; DMFD projector MOSI 101,888', () => {
    // FusionNetwork: text 768→256, audio 5→256, encoder 512, Linear 512→768
    const g = new GraphBuilder();
    const t = g.scoped('l', () => linear(g, g.input('t', [1, 50, 768]), { in: 768, out: 256 }));
    const a = g.scoped('a', () => linear(g, g.input('a', [1, 50, 5]), { in: 5, out: 256 }));
    const e = g.scoped('enc', () => transformerEncoder(g, g.concat([t, a], 2), { dModel: 512, heads: 8, layers: 2, mixTime: false }));
    g.scoped('out', () => linear(g, e, { in: 512, out: 768 }));
    expect(count(g)).toBe(6_898_176);

    const h = new GraphBuilder();
    const x = h.input('x', [2, 128]);
    h.scoped('out_proj', () => linear(h, h.scoped('dense', () => linear(h, x, { in: 128, out: 128 })), { in: 128, out: 1 }));
    expect(count(h)).toBe(16_641);

    const d = new GraphBuilder();
    d.scoped('pl', () => linear(d, d.input('l', [1, 2, 768]), { in: 768, out: 128 }));
    d.scoped('pv', () => linear(d, d.input('v', [1, 2, 20]), { in: 20, out: 128 }));
    d.scoped('pa', () => linear(d, d.input('a', [1, 2, 5]), { in: 5, out: 128 }));
    expect(count(d)).toBe(101_888);

    // visual generator, MOSI (d_V = 20): MSSE + BiLSTM + LN + encoder + 512→256→20 + MHA(20) + LN(20)
    const v = new GraphBuilder();
    let z = v.scoped('msse', () => msse(v, v.input('c', [1, 4, 768]), { channels: 768 }));
    z = v.scoped('lstm', () => lstm(v, z, { input: 768, hidden: 256, layers: 4, bidirectional: true }));
    v.param('ln.weight', [512], { kind: 'ones' });
    v.param('ln.bias', [512], { kind: 'zeros' });
    z = v.scoped('enc', () => transformerEncoder(v, z, { dModel: 512, heads: 8, layers: 2, mixTime: false }));
    z = v.scoped('fc1', () => linear(v, z, { in: 512, out: 256 }));
    z = v.scoped('fc2', () => linear(v, z, { in: 256, out: 20 }));
    v.scoped('mha', () => multiheadAttention(v, z, z, z, { embed: 20, heads: 1 }));
    v.param('ln2.weight', [20], { kind: 'ones' });
    v.param('ln2.bias', [20], { kind: 'zeros' });
    expect(Math.round(count(v) / 1e4) / 100).toBe(20.58);
  });
});
