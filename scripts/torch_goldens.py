#!/usr/bin/python3
"""Golden values for smcirc from PyTorch 1.13 / numpy / sklearn (Debian python3-torch; run with /usr/bin/python3).

Reads each request written by `npx vite-node scripts/golden_export.ts` (test/fixtures/goldens/<case>.json + .bin:
inputs `in:<name>` and parameters `param:<name>` by PyTorch name), computes outputs `out:<name>`, gradients
`grad:<name>` of sum(out * cot), and for train cases `step<k>:...` after each torch.optim.Adam step, and rewrites
the fixture with the request plus the results. The BERT cases (bert_tiny, model_bert_tiny) take BERT's weights from
the committed checkpoint named in their meta, not from the request. Usage: torch_goldens.py [case ...]
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import mutual_info_score
from sklearn.metrics.pairwise import cosine_similarity

from golden_common import BertModel, Encoder, future_mask, load_bert_checkpoint, spec_bert_name

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
DIR = os.path.join(ROOT, 'test', 'fixtures', 'goldens')
torch.manual_seed(0)


def load(name):
    with open(os.path.join(DIR, name + '.json')) as f:
        idx = json.load(f)
    raw = np.fromfile(os.path.join(DIR, name + '.bin'), dtype='<f4')
    tensors = {}
    for t in idx['tensors']:
        n = int(np.prod(t['shape'])) if t['shape'] else 1
        tensors[t['name']] = raw[t['offset']:t['offset'] + n].reshape(t['shape'])
    return idx, tensors


def save(name, idx, tensors):
    keep = [(k, v) for k, v in tensors.items() if k.startswith('in:') or k.startswith('param:')]
    rest = [(k, v) for k, v in tensors.items() if not (k.startswith('in:') or k.startswith('param:'))]
    entries, chunks, off = [], [], 0
    for k, v in keep + rest:
        a = np.asarray(v, dtype='<f4')
        entries.append({'name': k, 'shape': list(a.shape), 'offset': off})
        chunks.append(a.ravel())
        off += a.size
    with open(os.path.join(DIR, name + '.json'), 'w') as f:
        f.write(json.dumps({'case': name, 'meta': idx.get('meta'), 'tensors': entries}, indent=1) + '\n')
    np.concatenate(chunks).astype('<f4').tofile(os.path.join(DIR, name + '.bin'))


def load_params(module, t):
    want = {k[6:]: v for k, v in t.items() if k.startswith('param:')}
    sd = module.state_dict()
    missing = set(sd) ^ set(want)
    assert not missing, f'parameter names differ: {sorted(missing)}'
    module.load_state_dict({k: torch.tensor(want[k]) for k in sd})


def inputs(t, grad=True):
    return {k[3:]: torch.tensor(v, requires_grad=grad and k != 'in:cot') for k, v in t.items() if k.startswith('in:')}


# ---- modules mirroring the layer library ----------------------------------------------------------------------

class MSSE(nn.Module):
    def __init__(self, c, reduction=8, ks=(1, 3, 5)):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(c, c, k, padding=(k - 1) // 2) for k in ks])
        self.fuse = nn.Conv1d(c * len(ks), c, 1)
        self.fc1 = nn.Linear(2 * c, c // reduction)
        self.norm = nn.LayerNorm(c // reduction)
        self.fc2 = nn.Linear(c // reduction, c)

    def forward(self, c):  # [B, T, C]
        ct = c.transpose(1, 2)
        z = self.fuse(torch.cat([conv(ct) for conv in self.convs], 1))
        pooled = torch.cat([z.max(dim=2).values, z.mean(dim=2)], 1)
        a = torch.sigmoid(self.fc2(F.relu(self.norm(self.fc1(pooled)))))
        return (ct * a[:, :, None] + ct).transpose(1, 2)


def layer_case(name, t):
    x = inputs(t)
    if name == 'linear':
        m = nn.Linear(5, 4); f = lambda: m(x['x'])
    elif name == 'layer_norm':
        m = nn.LayerNorm(6); f = lambda: m(x['x'])
    elif name in ('conv1d_k3', 'conv1d_k5'):
        m = nn.Conv1d(4, 3, 3, padding=1) if name == 'conv1d_k3' else nn.Conv1d(2, 3, 5, padding=2)
        f = lambda: m(x['x'].transpose(1, 2)).transpose(1, 2)
    elif name == 'lstm_bi2':
        m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True); f = lambda: m(x['x'])[0]
    elif name == 'mha_cross':
        m = nn.MultiheadAttention(6, 2, batch_first=True); f = lambda: m(x['q'], x['k'], x['v'], need_weights=False)[0]
    elif name == 'mha_causal':
        m = nn.MultiheadAttention(6, 3, batch_first=True)
        f = lambda: m(x['x'], x['x'], x['x'], attn_mask=future_mask(5), need_weights=False)[0]
    elif name == 'encoder_degenerate':
        # the released layout: a batch-first [B, T, d] tensor read as [seq = 1 ... ]: every (b, t) is its own
        # length-1 sequence
        m = Encoder(8, 2, 2)
        f = lambda: m(x['x'].reshape(1, -1, 8)).reshape(x['x'].shape)
    elif name == 'encoder_temporal':
        m = Encoder(8, 2, 2); f = lambda: m(x['x'].transpose(0, 1)).transpose(0, 1)
    elif name == 'msse':
        m = MSSE(16); f = lambda: m(x['x'])
    elif name == 'activations':
        m = None; f = lambda: F.silu(x['x']) + F.softplus(x['y'])  # softplus: beta 1, threshold 20
    elif name == 'embedding':
        m = nn.Embedding(7, 4); f = lambda: m(x['ids'].long())  # ids are floats holding integers (MMSA)
    elif name == 'losses':
        m = None
        def f():
            p, tt = x['p'], x['t']
            simse = (tt - p).sum() ** 2 / p.numel() ** 2
            return F.l1_loss(p, tt) + 0.5 * F.mse_loss(p, tt) + 3 * simse
    elif name == 'time_resample':
        m = None
        res = {}
        def ch(v):
            return v.transpose(1, 2)
        def f():
            res['pool_a'] = ch(F.adaptive_avg_pool1d(ch(x['a']), 50))
            res['pool_v'] = ch(F.adaptive_avg_pool1d(ch(x['v']), 50))
            res['interp_a_false'] = ch(F.interpolate(ch(x['a']), size=50, mode='linear', align_corners=False))
            res['interp_v_false'] = ch(F.interpolate(ch(x['v']), size=50, mode='linear', align_corners=False))
            res['up_true'] = ch(F.interpolate(ch(x['s']), size=375, mode='linear', align_corners=True))
            res['up_false'] = ch(F.interpolate(ch(x['s']), size=375, mode='linear', align_corners=False))
            return ch(F.interpolate(ch(x['x']), size=5, mode='linear', align_corners=True))
        out = f()
        extra = {f'out:{k}': v.detach().numpy() for k, v in res.items()}
        return finish_grads(None, x, out, extra)
    else:
        raise KeyError(name)
    if m is not None:
        load_params(m, t)
    res = finish_grads(m, x, f(), {})
    if name == 'embedding':
        # the embedding backward is index_add of the cotangent rows at the ids (repeated ids summed)
        ids = x['ids'].detach().long().flatten()
        want = torch.zeros(7, 4).index_add_(0, ids, x['cot'].detach().reshape(-1, 4))
        assert torch.allclose(torch.tensor(res['grad:weight']), want, rtol=0, atol=1e-6), 'embedding grad != index_add'
    return res


def finish_grads(m, x, out, extra):
    res = dict(extra)
    res['out:out'] = out.detach().numpy()
    loss = (out * x['cot']).sum()
    loss.backward()
    for k, v in x.items():
        if k != 'cot' and v.grad is not None:
            res[f'grad:{k}'] = v.grad.numpy()
    if m is not None:
        for k, p in m.named_parameters():
            if p.grad is not None:
                res[f'grad:{k}'] = p.grad.numpy()
    return res


# ---- DMFD statistics: numpy / sklearn exactly as the released code calls them ----------------------------------

def hist_entropy(v, bins=30):
    h = np.histogram(v.ravel(), bins)[0]
    h = h[h > 0]
    p = h / h.sum()
    return -np.sum(p * np.log(p))


def joint_mi(a, b, bins):
    joint = np.histogram2d(a.ravel(), b.ravel(), bins=bins)[0]
    n = joint.sum()
    pa, pb = joint.sum(1), joint.sum(0)
    nz = joint > 0
    return float(np.sum(joint[nz] / n * np.log(joint[nz] * n / np.outer(pa, pb)[nz])))


def dmfd_case(t):
    x, y = t['in:x'], t['in:y']
    px = F.adaptive_avg_pool1d(torch.tensor(x).transpose(1, 2), 10).transpose(1, 2).numpy()
    B = x.shape[0]
    H = np.array([hist_entropy(x[b]) for b in range(B)])
    MI = np.array([mutual_info_score(np.histogram(x[b].ravel(), 30)[0], np.histogram(y[b].ravel(), 30)[0]) for b in range(B)])
    S = np.array([cosine_similarity(px[b], y[b]).mean() for b in range(B)])
    Fs = (0.5 * H + 0.3 * MI + 10 * S).astype(np.float32).astype(np.float64)
    mu, sd = Fs.mean(), Fs.std()
    miss = ((S <= 0) & (Fs < mu - 0.8 * sd / (1 + Fs))).astype(np.float32)
    xt = torch.tensor(x)
    p = torch.softmax(xt.norm(dim=-1) / 1.0, dim=1)
    Hp = -(p * torch.log(p)).sum(1)
    MIp = np.array([joint_mi(px[b], y[b], 8) for b in range(B)])
    Sp = F.cosine_similarity(torch.tensor(px), torch.tensor(y), dim=-1, eps=1e-8).mean(1)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    H64 = np.array([hist_entropy(x64[b]) for b in range(B)])
    MI64 = np.array([mutual_info_score(np.histogram(x64[b].ravel(), 30)[0], np.histogram(y64[b].ravel(), 30)[0]) for b in range(B)])
    return {'ref:H_f64': H64, 'ref:MI_f64': MI64, 'out:H': H, 'out:MI': MI, 'out:S': S, 'out:F': Fs, 'out:miss': miss, 'out:H_paper': Hp.numpy(),
            'out:MI_paper': MIp, 'out:S_paper': Sp.numpy(), 'out:std': np.array(Fs.std())}


# ---- BERT encoder: Hugging Face's BertModel on the committed tiny checkpoint --------------------------------------

def bert_case(idx, t):
    """Last hidden state of test/goldens/bert-encoder.smcir's inputs and the gradient of sum(hidden * cot) for every
    BertModel parameter, keyed by our spec names. BertModel's word embedding has padding_idx = pad_token_id, whose
    row gets no gradient; `ref:grad_without_padding_idx:*` is that gradient from a plain nn.Embedding."""
    meta = idx['meta']
    cfg, sd = load_bert_checkpoint(os.path.join(ROOT, meta['checkpoint']), meta['sha256'])
    m = BertModel(cfg)
    m.load_state_dict(sd)
    m.eval()
    x = inputs(t, grad=False)
    word = m.embeddings.word_embeddings
    res = {}
    for padding_idx in (word.padding_idx, None):
        word.padding_idx = padding_idx
        m.zero_grad(set_to_none=True)
        hidden = m(x['ids'].long(), x['mask'], x['seg'].long())
        (hidden * x['cot']).sum().backward()
        if padding_idx is None:
            res[f'ref:grad_without_padding_idx:{spec_bert_name("embeddings.word_embeddings.weight")}'] = word.weight.grad.numpy().copy()
            continue
        res['out:hidden'] = hidden.detach().numpy()
        for k, p in m.named_parameters():
            res[f'grad:{spec_bert_name(k)}'] = p.grad.numpy().copy()
    return res


# ---- Adam train steps ---------------------------------------------------------------------------------------------

class AdamModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(5, 8)
        self.norm = nn.LayerNorm(8)
        self.lstm = nn.LSTM(8, 4, bidirectional=True, batch_first=True)
        self.frozen = nn.Linear(8, 1)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        h = self.norm(F.relu(self.proj(x)))
        h = self.lstm(h)[0].mean(1)
        return self.head(h) + 0.5 * self.frozen(h)


def adam_case(idx, t):
    meta = idx['meta']
    tr, groups = meta['train'], meta['groups']
    m = AdamModel()
    load_params(m, t)
    x = {k[3:]: torch.tensor(v) for k, v in t.items() if k.startswith('in:')}
    by_group = {}
    for k, p in m.named_parameters():
        if groups[k]['frozen']:
            p.requires_grad_(False)
            continue
        by_group.setdefault(groups[k]['group'], []).append(p)
    pg = []
    for gname, ps in by_group.items():
        o = tr.get('groups', {}).get(gname, {})
        pg.append({'params': ps, 'lr': o.get('lr', tr['lr']), 'weight_decay': o.get('weightDecay', tr.get('weightDecay', 0))})
    opt = torch.optim.Adam(pg, lr=tr['lr'], eps=tr['eps'])
    res = {}
    names = {id(p): k for k, p in m.named_parameters()}
    for step in range(1, tr['steps'] + 1):
        opt.zero_grad()
        pred = m(x['x'])
        if step == 1:
            res['out:pred'] = pred.detach().numpy()
        loss = F.l1_loss(pred, x['label'])
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([p for p in m.parameters() if p.requires_grad], tr['maxGradNorm'])
        res[f'step{step}:loss'] = np.array(loss.item())
        res[f'step{step}:grad_norm'] = np.array(norm.item())
        for p in m.parameters():
            if p.requires_grad:
                res[f'step{step}:grad:{names[id(p)]}'] = p.grad.numpy().copy()
        opt.step()
        for p in m.parameters():
            k = names[id(p)]
            res[f'step{step}:param:{k}'] = p.detach().numpy().copy()
            if p.requires_grad:
                st = opt.state[p]
                res[f'step{step}:m:{k}'] = st['exp_avg'].numpy().copy()
                res[f'step{step}:v:{k}'] = st['exp_avg_sq'].numpy().copy()
    return res


def main(argv):
    names = argv or sorted(f[:-5] for f in os.listdir(DIR) if f.endswith('.json'))
    for name in names:
        idx, t = load(name)
        t = {k: v for k, v in t.items() if k.startswith('in:') or k.startswith('param:')}
        if name == 'dmfd_stats':
            res = dmfd_case(t)
        elif name == 'adam_step':
            res = adam_case(idx, t)
        elif name == 'bert_tiny':
            res = bert_case(idx, t)
        elif name.startswith('model_'):
            import model_goldens  # whole-model goldens live next to this script
            res = model_goldens.run(name, idx, t)
        else:
            res = layer_case(name, t)
        t.update({k: np.asarray(v, dtype=np.float32) for k, v in res.items()})
        save(name, idx, t)
        print(f'{name}: {len(res)} tensors')


if __name__ == '__main__':
    main(sys.argv[1:])
