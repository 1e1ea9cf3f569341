#!/usr/bin/python3
"""PyTorch peer for BENCHMARKS.md: one train step (forward, L1 on a linear read-out of token 0, backward, clipping,
Adam) of a bert-base-uncased-sized BertModel without the pooler (random weights; the embedding block under
no_grad, as the released SMCIR) at batch B and length L on this CPU. Prints JSON: seconds per step (median of
the steps after a warm-up) and peak RSS.   usage: /usr/bin/python3 bench/peer/bert_base_step.py [B] [L] [steps]
"""
import json, math, resource, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

B = int(sys.argv[1]) if len(sys.argv) > 1 else 2
L = int(sys.argv[2]) if len(sys.argv) > 2 else 50
STEPS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
H, LAYERS, HEADS, FFN, V, P = 768, 12, 12, 3072, 30522, 512


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(H, H) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(H, eps=1e-12), nn.LayerNorm(H, eps=1e-12)
        self.i, self.out = nn.Linear(H, FFN), nn.Linear(FFN, H)

    def forward(self, x, mask):
        split = lambda t: t.view(B, L, HEADS, H // HEADS).transpose(1, 2)
        s = split(self.q(x)) @ split(self.k(x)).transpose(-1, -2) / math.sqrt(H // HEADS) + mask
        c = (F.dropout(s.softmax(-1), 0.1, self.training) @ split(self.v(x))).transpose(1, 2).reshape(B, L, H)
        a = self.ln1(F.dropout(self.o(c), 0.1, self.training) + x)
        return self.ln2(F.dropout(self.out(F.gelu(self.i(a))), 0.1, self.training) + a)


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word, self.pos, self.typ = nn.Embedding(V, H), nn.Embedding(P, H), nn.Embedding(2, H)
        self.ln = nn.LayerNorm(H, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.head = nn.Linear(H, 1)

    def forward(self, ids, m, seg):
        with torch.no_grad():
            x = F.dropout(self.ln(self.word(ids) + self.pos.weight[:L] + self.typ(seg)), 0.1, self.training)
        mask = (1 - m[:, None, None, :]) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        return self.head(x[:, 0])[:, 0]


torch.manual_seed(0)
model = Bert().train()
opt = torch.optim.Adam(model.parameters(), lr=2e-5, eps=3e-8, weight_decay=1e-4)
ids = torch.randint(0, V, (B, L))
m = torch.ones(B, L)
seg = torch.zeros(B, L, dtype=torch.long)
y = torch.randn(B)
times = []
for s in range(STEPS + 1):
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = F.l1_loss(model(ids, m, seg), y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
    opt.step()
    times.append(time.perf_counter() - t0)
times = sorted(times[1:])
print(json.dumps({'peer': 'pytorch', 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': B, 'length': L,
                  'seconds_per_step_median': times[len(times) // 2], 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
