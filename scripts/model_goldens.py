"""Whole-model goldens for smcirc: a PyTorch mirror of the released SMCIR code (github.com/js257/SMCIR a080d77, as
described in the implementation reference §1-§9) at specs/smcir-tiny.smcir widths, loading our exported weights by
parameter name. DMFD runs in numpy/sklearn on the current batch (B4 fixed); CMCG loops over the samples as the
released code does. Called from torch_goldens.py for cases named model_*:

  model_tiny       specs/smcir-tiny.smcir: the text input is BERT's last hidden state [B, T_L, d_L]
  model_bert_tiny  specs/smcir-bert-tiny.smcir: BERT in front (golden_common.BertModel, weights from the checkpoint
                   in the request's meta, its embedding block under torch.no_grad as released), fed token ids
                   [B, 3, T_L] (ids, attention mask, segment ids)
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import mutual_info_score
from sklearn.metrics.pairwise import cosine_similarity

from golden_common import BertModel, Encoder, load_bert_checkpoint, spec_bert_name

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')

# specs/smcir-tiny.smcir
T_L, d_L, T_V, d_V, T_A, d_A = 8, 16, 12, 6, 10, 4
hidden1, hidden2, num_layers, transformer_layers, heads = 8, 8, 1, 1, 2
out_dim, head_hidden, eta = 8, 8, 0.6
alpha, beta, gamma, lbda, bins = 0.5, 0.3, 10, 0.8, 30


def interp(x, size, align):  # [1, T, C] along T
    if x.shape[1] == size:
        return x
    return F.interpolate(x.transpose(1, 2), size=size, mode='linear', align_corners=align).transpose(1, 2)


class FusionNetwork(nn.Module):
    def __init__(self, d_other):
        super().__init__()
        self.text_proj = nn.Linear(d_L, hidden2)
        self.other_proj = nn.Linear(d_other, hidden2)
        self.encoder = Encoder(2 * hidden2, heads, transformer_layers)
        self.out = nn.Linear(2 * hidden2, d_L)

    def forward(self, text, other):  # one sample each: [1, T, d]
        o = interp(self.other_proj(other), T_L, False)
        h = torch.cat([self.text_proj(text), o], -1)
        return self.out(self.encoder(h))  # the released layout: [1, T_L, d] read as seq 1 (D7)


class MSSE(nn.Module):
    def __init__(self, c, reduction=8):
        super().__init__()
        self.conv1 = nn.Conv1d(c, c, 1)
        self.conv3 = nn.Conv1d(c, c, 3, padding=1)
        self.conv5 = nn.Conv1d(c, c, 5, padding=2)
        self.fuse = nn.Conv1d(3 * c, c, 1)
        self.fc1 = nn.Linear(2 * c, c // reduction)
        self.norm = nn.LayerNorm(c // reduction)
        self.fc2 = nn.Linear(c // reduction, c)

    def forward(self, cond):  # [1, T, C]
        c = cond.transpose(1, 2)
        z = self.fuse(torch.cat([self.conv1(c), self.conv3(c), self.conv5(c)], 1))
        pooled = torch.cat([z.max(dim=2).values, z.mean(dim=2)], 1)
        a = torch.sigmoid(self.fc2(F.relu(self.norm(self.fc1(pooled)))))
        return (c * a[:, :, None] + c).transpose(1, 2)  # C*A + C (D9)


class Generator(nn.Module):
    def __init__(self, d, T):
        super().__init__()
        self.T = T
        self.msse = MSSE(d_L)
        self.lstm = nn.LSTM(d_L, hidden2, num_layers=num_layers, bidirectional=True, batch_first=True)
        self.norm = nn.LayerNorm(2 * hidden2)
        self.encoder = Encoder(2 * hidden2, heads, transformer_layers)
        self.fc1 = nn.Linear(2 * hidden2, hidden2)
        self.fc2 = nn.Linear(hidden2, d)
        self.attn = nn.MultiheadAttention(d, 1, batch_first=True)
        self.attn_norm = nn.LayerNorm(d)

    def forward(self, x, cond):
        ms = self.msse(cond)
        k_lstm = self.norm(self.lstm(ms)[0])  # LN after the BiLSTM (D10); dropout off (eval)
        k = k_lstm + self.encoder(k_lstm)
        p = self.fc2(F.relu(self.fc1(k)))
        p_hat = self.attn_norm(p + self.attn(p, p, p, need_weights=False)[0])
        return eta * interp(p_hat, self.T, True) + x


class DMFD(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj_l = nn.Linear(d_L, hidden1)
        self.proj_v = nn.Linear(d_V, hidden1)
        self.proj_a = nn.Linear(d_A, hidden1)

    @staticmethod
    def indicators(pm, pl):
        B = pm.shape[0]
        H = np.zeros(B); M = np.zeros(B); S = np.zeros(B)
        pooled = F.adaptive_avg_pool1d(torch.tensor(pm).transpose(1, 2), T_L).transpose(1, 2).numpy()
        for i in range(B):
            h = np.histogram(pm[i].ravel(), bins)[0]
            nz = h[h > 0] / h[h > 0].sum()
            H[i] = -np.sum(nz * np.log(nz))
            M[i] = mutual_info_score(h, np.histogram(pl[i].ravel(), bins)[0])
            S[i] = cosine_similarity(pooled[i], pl[i]).mean()
        return H, M, S

    @staticmethod
    def rule(H, M, S):
        Fm = alpha * H + beta * M + gamma * S
        mu, sd = Fm.mean(), Fm.std()
        return (S <= 0) & (Fm < mu - lbda * sd / (1 + Fm)), Fm

    def forward(self, text, vision, audio):
        with torch.no_grad():
            pl = self.proj_l(text).numpy()
            mv, fv = self.rule(*self.indicators(self.proj_v(vision).numpy(), pl))
            ma, fa = self.rule(*self.indicators(self.proj_a(audio).numpy(), pl))
        return mv, ma, fv, fa


class CMCG(nn.Module):
    def __init__(self):
        super().__init__()
        self.fusion_v = FusionNetwork(d_A)
        self.fusion_a = FusionNetwork(d_V)
        self.gen_v = Generator(d_V, T_V)
        self.gen_a = Generator(d_A, T_A)

    def forward(self, text, vision, audio, mv, ma):
        vs, as_ = [], []
        for i in range(text.shape[0]):  # the released per-sample dispatch (§5)
            L, V, A = text[i:i + 1], vision[i:i + 1], audio[i:i + 1]
            if mv[i] and ma[i]:
                vs.append(self.gen_v(V, L)); as_.append(self.gen_a(A, L))
            elif mv[i]:
                vs.append(self.gen_v(V, self.fusion_v(L, A))); as_.append(A)
            elif ma[i]:
                vs.append(V); as_.append(self.gen_a(A, self.fusion_a(L, V)))
            else:
                vs.append(V); as_.append(A)
        return torch.cat(vs, 0), torch.cat(as_, 0)


class FinalFusion(nn.Module):
    def __init__(self):
        super().__init__()
        self.text_proj = nn.Linear(d_L, hidden2)
        self.vision_proj = nn.Linear(d_V, hidden2)
        self.audio_proj = nn.Linear(d_A, hidden2)
        self.out = nn.Linear(3 * hidden2, out_dim)

    def forward(self, text, vision, audio):
        v = F.interpolate(self.vision_proj(vision).transpose(1, 2), size=T_L, mode='linear', align_corners=False).transpose(1, 2)
        a = F.interpolate(self.audio_proj(audio).transpose(1, 2), size=T_L, mode='linear', align_corners=False).transpose(1, 2)
        return self.out(torch.cat([self.text_proj(text), v, a], -1))


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(out_dim, head_hidden)
        self.out_proj = nn.Linear(head_hidden, 1)

    def forward(self, o):
        h = torch.tanh(self.dense(o[:, 0]))  # step 0 only (D17); dropout off (eval)
        return self.out_proj(h + h)[:, 0]


class SMCIR(nn.Module):
    """`bert_cfg`: the model of smcir-bert.smcir, whose text input is token ids read by a BertModel."""

    def __init__(self, bert_cfg=None):
        super().__init__()
        if bert_cfg is not None:
            self.bert = BertModel(bert_cfg)
        self.dmfd = DMFD()
        self.cmcg = CMCG()
        self.fusion = FinalFusion()
        self.head = Head()

    def forward(self, text, vision, audio):
        if hasattr(self, 'bert'):  # the released text_bert path: the embeddings without gradient
            text = self.bert(text[:, 0].long(), text[:, 1], text[:, 2].long(), freeze_embeddings=True)
        mv, ma, fv, fa = self.dmfd(text, vision, audio)
        v_hat, a_hat = self.cmcg(text, vision, audio, mv, ma)
        both = mv & ma
        pred = self.head(self.fusion(text, v_hat, a_hat))
        return {'pred': pred, 'state_v': mv.astype(np.float32) + both.astype(np.float32), 'state_a': ma.astype(np.float32) + both.astype(np.float32),
                'vision_hat': v_hat, 'audio_hat': a_hat, 'F_v': fv, 'F_a': fa}


def spec_name(k):
    """Our parameter name of a mirror parameter (BertModel's `output` members are `out` in our specs)."""
    return spec_bert_name(k[len('bert.'):]) if k.startswith('bert.') else k


def load_model(idx, t):
    """The mirror with the request's parameters; BERT's from the checkpoint, checked against the request's (which
    our side mapped from the same file through runtime/weights' name map)."""
    bert = idx['meta'].get('bert')
    cfg, bert_sd = load_bert_checkpoint(os.path.join(ROOT, bert['checkpoint']), bert['sha256']) if bert else (None, {})
    m = SMCIR(cfg)
    want = {k[6:]: v for k, v in t.items() if k.startswith('param:')}
    sd = m.state_dict()
    diff = {spec_name(k) for k in sd} ^ set(want)
    assert not diff, f'parameter names differ: {sorted(diff)}'
    values = {}
    for k in sd:
        if k.startswith('bert.'):
            values[k] = bert_sd[k[len('bert.'):]]
            assert np.array_equal(values[k].numpy(), want[spec_name(k)]), f'{spec_name(k)} is not the checkpoint\'s {k}'
        else:
            values[k] = torch.tensor(want[k])
    m.load_state_dict(values)
    m.eval()
    return m


def run(name, idx, t):
    assert name in ('model_tiny', 'model_bert_tiny'), name
    meta = idx['meta']
    m = load_model(idx, t)
    x = {k[3:]: torch.tensor(v) for k, v in t.items() if k.startswith('in:')}
    pmeta = {k: meta['params'][spec_name(k)] for k, _ in m.named_parameters()}
    groups = {}
    for k, p in m.named_parameters():
        if pmeta[k]['frozen']:
            p.requires_grad_(False)
            continue
        g = groups.setdefault(pmeta[k]['group'], {'params': [], 'lr': pmeta[k]['lr'], 'weight_decay': pmeta[k]['weightDecay']})
        g['params'].append(p)
    tr = meta['train']
    opt = torch.optim.Adam(list(groups.values()), lr=1e-3, eps=tr['eps'], betas=tuple(tr['betas']))
    # the embedding block runs under torch.no_grad: its parameters stay in the optimizer with .grad None, which
    # clip_grad_norm_ and Adam skip (no update, no weight decay, no state)
    no_grad = {k for k, p in m.named_parameters() if k.startswith('bert.embeddings.')}
    res = {}
    for step in (1, 2):
        opt.zero_grad()
        out = m(x['text'], x['vision'], x['audio'])
        loss = F.l1_loss(out['pred'], x['label'])
        if step == 1:
            for k in ('pred', 'state_v', 'state_a', 'vision_hat', 'audio_hat'):
                v = out[k]
                res[f'out:{k}'] = v.detach().numpy() if torch.is_tensor(v) else v
            res['ref:F_v'] = out['F_v']
            res['ref:F_a'] = out['F_a']
        loss.backward()
        params = [p for p in m.parameters() if p.requires_grad]
        missing = {k for k, p in m.named_parameters() if p.requires_grad and p.grad is None}
        assert missing == no_grad, f'parameters without gradient (torch skips them in Adam): {sorted(missing ^ no_grad)}'
        norm = torch.nn.utils.clip_grad_norm_(params, tr['maxGradNorm']) if tr['maxGradNorm'] else None
        res[f'step{step}:loss'] = np.array(loss.item())
        if norm is not None:
            res[f'step{step}:grad_norm'] = np.array(norm.item())
        opt.step()
        for k, p in m.named_parameters():
            if step == 1 and p.grad is not None:
                res[f'step1:grad:{spec_name(k)}'] = p.grad.numpy().copy()
                res[f'step1:m:{spec_name(k)}'] = opt.state[p]['exp_avg'].numpy().copy()
                res[f'step1:v:{spec_name(k)}'] = opt.state[p]['exp_avg_sq'].numpy().copy()
            res[f'step{step}:param:{spec_name(k)}'] = p.detach().numpy().copy()
    return res
