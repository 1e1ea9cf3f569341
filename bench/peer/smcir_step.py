#!/usr/bin/python3
"""PyTorch peer of smcirc's train step (`npm run bench`, peer section): one step of SMCIR in PyTorch eager — forward,
DMFD, L1 loss, backward, clip_grad_norm(2), Adam — in eval mode (dropout off), as bench/train-step.ts times smcirc.

  python3 bench/peer/smcir_step.py --size tiny|mosi --batch N --steps S --form per-sample|batched
                                   --device cpu|cuda [--weights FILE.safetensors] [--data FILE.safetensors] [--threads N]

Sizes: `tiny` is specs/smcir-tiny.smcir, `mosi` specs/smcir.smcir (CMU-MOSI: 50/500/375 steps, widths 768/20/5,
hidden 256, 4 BiLSTM layers). The model is the PyTorch mirror of the released code in scripts/model_goldens.py (DMFD in
numpy/sklearn on the batch, as released). Forms:
  per-sample  the released code's CMCG: a Python loop over the samples, running a generator only for the ones DMFD
              flagged (scripts/model_goldens.py as it is);
  batched     smcirc's form: both fusion networks and generators run on the whole batch, and torch.where keeps the
              flagged rows (same parameters, same values).
--weights reads smcirc's exported parameters (safetensors, F32, smcirc's = PyTorch's names) so both sides run identical
weights; --data reads the batch (tensors text, vision, audio, label) that smcirc trained on. Without them: PyTorch's
default init (seed 0) and a seeded N(0, 1) batch with sample 0's vision and sample 1's audio zeroed.
Prints one JSON line. Times are the median of --steps steps after one warm-up step (the first step, timed apart).
"""
import argparse
import json
import os
import resource
import sys
import time
import types

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ left in scripts/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts'))


def sklearn_stand_in():
    """numpy versions of the two sklearn functions the mirror's DMFD calls, for machines without sklearn."""
    def mutual_info_score(a, b):  # sklearn.metrics.mutual_info_score on two label vectors
        _, ai = np.unique(a, return_inverse=True)
        _, bi = np.unique(b, return_inverse=True)
        c = np.zeros((ai.max() + 1, bi.max() + 1))
        np.add.at(c, (ai, bi), 1)
        p = c / c.sum()
        pi, pj = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
        nz = p > 0
        return max(float((p[nz] * (np.log(p[nz]) - np.log((pi * pj)[nz]))).sum()), 0.0)

    def cosine_similarity(x, y):  # rows normalised (zero rows stay zero), then x @ y.T
        def unit(m):
            r = np.linalg.norm(m, axis=1, keepdims=True)
            return m / np.where(r == 0, 1, r)
        return unit(x) @ unit(y).T

    metrics = types.ModuleType('sklearn.metrics')
    metrics.mutual_info_score = mutual_info_score
    pairwise = types.ModuleType('sklearn.metrics.pairwise')
    pairwise.cosine_similarity = cosine_similarity
    metrics.pairwise = pairwise
    sys.modules.update({'sklearn': types.ModuleType('sklearn'), 'sklearn.metrics': metrics, 'sklearn.metrics.pairwise': pairwise})


try:
    import sklearn.metrics  # noqa: F401
    SKLEARN = True
except ImportError:
    sklearn_stand_in()
    SKLEARN = False

import torch
import torch.nn.functional as F

import golden_common as gc
import model_goldens as mg

# the specs' constants and train settings (smcir-tiny.smcir overrides lr and eps; both: weight decay 1e-4, none for
# head.*.bias, betas (0.9, 0.999), clip_grad_norm 2)
SIZES = {
    'tiny': dict(T_L=8, d_L=16, T_V=12, d_V=6, T_A=10, d_A=4, hidden1=8, hidden2=8, num_layers=1, transformer_layers=1,
                 heads=2, out_dim=8, head_hidden=8, eta=0.6, lr=1e-3, eps=1e-8),
    'mosi': dict(T_L=50, d_L=768, T_V=500, d_V=20, T_A=375, d_A=5, hidden1=128, hidden2=256, num_layers=4,
                 transformer_layers=2, heads=8, out_dim=128, head_hidden=128, eta=0.6, lr=2e-5, eps=3e-8),
}
WEIGHT_DECAY, BETAS, MAX_GRAD_NORM = 1e-4, (0.9, 0.999), 2.0


def read_safetensors(path):
    """{name: float32 array} from a safetensors file (8-byte little-endian header length, JSON header, raw bytes)."""
    with open(path, 'rb') as f:
        buf = f.read()
    n = int.from_bytes(buf[:8], 'little')
    header = json.loads(buf[8:8 + n])
    out = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        if h['dtype'] != 'F32':
            sys.exit(f'{path}: tensor {name} has dtype {h["dtype"]}; expected F32')
        s, e = h['data_offsets']
        out[name] = np.frombuffer(buf, '<f4', (e - s) // 4, 8 + n + s).reshape(h['shape'])
    return out


# ---- the batched form: the mirror's modules, run on the whole batch ------------------------------------------------
def encode_rows(encoder, x):
    """The mirror feeds [1, T, d] to a [seq, batch, d] encoder (seq 1: every time step alone, D7); [1, B·T, d] is the
    same computation for the whole batch."""
    B, T, D = x.shape
    return encoder(x.reshape(1, B * T, D)).reshape(B, T, D)


def fusion_batched(f, text, other):
    o = mg.interp(f.other_proj(other), mg.T_L, False)
    return f.out(encode_rows(f.encoder, torch.cat([f.text_proj(text), o], -1)))


def generator_batched(g, x, cond):
    ms = g.msse(cond)
    k_lstm = g.norm(g.lstm(ms)[0])
    k = k_lstm + encode_rows(g.encoder, k_lstm)
    p = g.fc2(F.relu(g.fc1(k)))
    p_hat = g.attn_norm(p + g.attn(p, p, p, need_weights=False)[0])
    return mg.eta * mg.interp(p_hat, g.T, True) + x


class BatchedCMCG(mg.CMCG):
    """specs/smcir.smcir's CMCG: where(miss_v, gen_v(vision, where(both, text, fusion_v(text, audio))), vision), …"""

    def forward(self, text, vision, audio, mv, ma):
        miss_v = torch.as_tensor(mv, device=text.device).view(-1, 1, 1)
        miss_a = torch.as_tensor(ma, device=text.device).view(-1, 1, 1)
        both = miss_v & miss_a
        v_hat = torch.where(miss_v, generator_batched(self.gen_v, vision, torch.where(both, text, fusion_batched(self.fusion_v, text, audio))), vision)
        a_hat = torch.where(miss_a, generator_batched(self.gen_a, audio, torch.where(both, text, fusion_batched(self.fusion_a, text, vision))), audio)
        return v_hat, a_hat


def dmfd_forward(self, text, vision, audio):
    """mg.DMFD.forward with a copy to the host first (its numpy statistics), so the mirror also runs on CUDA."""
    with torch.no_grad():
        pl = self.proj_l(text).cpu().numpy()
        mv, fv = self.rule(*self.indicators(self.proj_v(vision).cpu().numpy(), pl))
        ma, fa = self.rule(*self.indicators(self.proj_a(audio).cpu().numpy(), pl))
    return mv, ma, fv, fa


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--size', choices=sorted(SIZES), required=True)
    ap.add_argument('--batch', type=int, required=True)
    ap.add_argument('--steps', type=int, required=True)
    ap.add_argument('--form', choices=['per-sample', 'batched'], required=True)
    ap.add_argument('--device', choices=['cpu', 'cuda'], required=True)
    ap.add_argument('--weights', help="smcirc's exported parameters (safetensors)")
    ap.add_argument('--data', help='the batch: tensors text, vision, audio, label (safetensors)')
    ap.add_argument('--threads', type=int, help='torch CPU threads (default: every core)')
    a = ap.parse_args(argv)
    if a.batch < 1 or a.steps < 1:
        ap.error('--batch and --steps must be at least 1')
    return a


def main(argv):
    a = parse_args(argv)
    if a.device == 'cuda' and not torch.cuda.is_available():
        sys.exit(f'smcir_step.py: --device cuda, but this torch {torch.__version__} sees no CUDA device '
                 f'(built with CUDA {torch.version.cuda}); use --device cpu')
    dev = torch.device(a.device)
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    cfg = SIZES[a.size]
    for k, v in cfg.items():
        if hasattr(mg, k):
            setattr(mg, k, v)
    gc.future_mask = lambda n: torch.triu(torch.full((n, n), float('-inf'), device=dev), 1)  # the mask on the device
    mg.DMFD.forward = dmfd_forward

    torch.manual_seed(0)
    model = mg.SMCIR()
    if a.form == 'batched':  # the same modules and values, the batched forward
        batched = BatchedCMCG()
        batched.load_state_dict(model.cmcg.state_dict())
        model.cmcg = batched
    if a.weights:
        w = read_safetensors(a.weights)
        sd = model.state_dict()
        if set(w) != set(sd):
            sys.exit(f'{a.weights}: parameter names differ from the {a.size} mirror: {sorted(set(w) ^ set(sd))[:8]}')
        bad = [k for k in sd if tuple(w[k].shape) != tuple(sd[k].shape)]
        if bad:
            sys.exit(f'{a.weights}: shapes differ for {bad[:8]} (is it the {a.size} spec?)')
        model.load_state_dict({k: torch.from_numpy(w[k].copy()) for k in sd})
    model.to(dev).eval()

    B = a.batch
    if a.data:
        d = read_safetensors(a.data)
        want = {'text': (B, mg.T_L, mg.d_L), 'vision': (B, mg.T_V, mg.d_V), 'audio': (B, mg.T_A, mg.d_A), 'label': (B,)}
        for k, shape in want.items():
            if k not in d or tuple(d[k].shape) != shape:
                sys.exit(f'{a.data}: expected {k} of shape {list(shape)} (--size {a.size} --batch {B}), '
                         f'found {list(d[k].shape) if k in d else "none"}')
        x = {k: torch.from_numpy(d[k].copy()) for k in want}
    else:
        g = torch.Generator().manual_seed(0)
        x = {'text': torch.randn(B, mg.T_L, mg.d_L, generator=g), 'vision': torch.randn(B, mg.T_V, mg.d_V, generator=g),
             'audio': torch.randn(B, mg.T_A, mg.d_A, generator=g), 'label': 3 * torch.tanh(torch.randn(B, generator=g))}
        x['vision'][0] = 0
        x['audio'][min(1, B - 1)] = 0
    x = {k: v.to(dev) for k, v in x.items()}

    # the DMFD projections are frozen; head.*.bias has no weight decay (specs/smcir.smcir's group head_bias)
    for k, p in model.named_parameters():
        p.requires_grad_(not k.startswith('dmfd.'))
    named = [(k, p) for k, p in model.named_parameters() if p.requires_grad]
    no_wd = [p for k, p in named if k.startswith('head.') and k.endswith('.bias')]
    rest = [p for k, p in named if not (k.startswith('head.') and k.endswith('.bias'))]
    opt = torch.optim.Adam([{'params': rest}, {'params': no_wd, 'weight_decay': 0.0}], lr=cfg['lr'], eps=cfg['eps'],
                           betas=BETAS, weight_decay=WEIGHT_DECAY)
    trainable = [p for _, p in named]

    def step():
        opt.zero_grad(set_to_none=True)
        out = model(x['text'], x['vision'], x['audio'])
        loss = F.l1_loss(out['pred'], x['label'])
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([p for p in trainable if p.grad is not None], MAX_GRAD_NORM)
        opt.step()
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        return loss, norm, out

    if dev.type == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    loss, norm, out = step()
    first = time.perf_counter() - t0
    first_loss, first_norm = loss.item(), norm.item()
    flagged = {'vision': int(out['state_v'].astype(bool).sum()), 'audio': int(out['state_a'].astype(bool).sum()),
               'both': int((out['state_v'] == 2).sum())}
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    res = {'peer': 'pytorch eager', 'form': a.form, 'size': a.size, 'batch': B, 'device': a.device,
           'torch': torch.__version__, 'threads': torch.get_num_threads(),
           'parameters': sum(p.numel() for p in model.parameters()),
           'seconds_per_step_median': times[len(times) // 2], 'first_step_seconds': first,
           'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if dev.type == 'cuda':
        res['peak_cuda_mb'] = torch.cuda.max_memory_allocated() / 2 ** 20
        res['cuda_device'] = torch.cuda.get_device_name()
    res.update({'loss_first_step': first_loss, 'grad_norm_first_step': first_norm, 'steps': a.steps,
                'seconds_per_step_min': times[0], 'seconds_per_step_max': times[-1], 'flagged_first_step': flagged,
                'weights': 'smcirc' if a.weights else 'torch-init', 'data': 'file' if a.data else 'seeded',
                'dmfd_statistics': 'sklearn' if SKLEARN else 'numpy stand-in for sklearn'})
    print(json.dumps(res))


if __name__ == '__main__':
    main(sys.argv[1:])
