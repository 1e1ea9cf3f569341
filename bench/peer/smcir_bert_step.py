#!/usr/bin/python3
"""PyTorch peer for BENCHMARKS.md: one train step of the whole released model — bert-base-uncased (random weights,
embeddings under no_grad) → SMCIR at CMU-MOSI sizes — with the PyTorch mirror of the released code in
scripts/model_goldens.py (DMFD in numpy/sklearn on the batch, CMCG looping over the flagged samples as the
released code does), forward + L1 + backward + clipping + Adam, on this CPU. Prints JSON: seconds per step
(median after a warm-up step) and peak RSS.   usage: /usr/bin/python3 bench/peer/smcir_bert_step.py [B] [steps]
"""
import json, os, resource, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'scripts'))
import torch
import torch.nn.functional as F
import model_goldens as mg

B = int(sys.argv[1]) if len(sys.argv) > 1 else 2
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
# specs/smcir.smcir (MOSI)
mg.T_L, mg.d_L, mg.T_V, mg.d_V, mg.T_A, mg.d_A = 50, 768, 500, 20, 375, 5
mg.hidden1, mg.hidden2, mg.num_layers, mg.transformer_layers, mg.heads = 128, 256, 4, 2, 8
mg.out_dim, mg.head_hidden = 128, 128
BERT = dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
            max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12, hidden_act='gelu',
            hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, pad_token_id=0)

torch.manual_seed(0)
model = mg.SMCIR(bert_cfg=BERT).train()
opt = torch.optim.Adam(model.parameters(), lr=2e-5, eps=3e-8, weight_decay=1e-4)
ids = torch.randint(1000, 30522, (B, mg.T_L)).float()
text = torch.stack([ids, torch.ones(B, mg.T_L), torch.zeros(B, mg.T_L)], dim=1)
vision = torch.randn(B, mg.T_V, mg.d_V)
audio = torch.randn(B, mg.T_A, mg.d_A)
vision[0] = 0  # one sample with vision missing: DMFD flags it and CMCG regenerates it
y = torch.randn(B)
times = []
for s in range(STEPS + 1):
    t0 = time.perf_counter()
    opt.zero_grad()
    out = model(text, vision, audio)
    loss = F.l1_loss(out['pred'], y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
    opt.step()
    times.append(time.perf_counter() - t0)
t = sorted(times[1:])
print(json.dumps({'peer': 'pytorch (released per-sample form)', 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': B,
                  'parameters': sum(p.numel() for p in model.parameters()), 'seconds_per_step_median': t[len(t) // 2],
                  'first_step_seconds': times[0], 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
