"""Modules shared by torch_goldens.py (layer goldens) and model_goldens.py (whole-model goldens): the MulT/fairseq
Transformer encoder, with the parameter names our exported weights use.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class EncoderLayer(nn.Module):
    """fairseq/MulT TransformerEncoderLayer, pre-LN, eval mode (dropout off); input [seq, batch, d]."""

    def __init__(self, d, heads):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, heads)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)
        self.layer_norms = nn.ModuleList([nn.LayerNorm(d), nn.LayerNorm(d)])

    def forward(self, x, mask):
        r = x
        x = self.layer_norms[0](x)
        x = self.self_attn(x, x, x, attn_mask=mask, need_weights=False)[0]
        x = r + x
        r = x
        x = self.layer_norms[1](x)
        return r + self.fc2(F.relu(self.fc1(x)))


def future_mask(n):
    return torch.triu(torch.full((n, n), float('-inf')), 1)


class Encoder(nn.Module):
    """MulT/fairseq encoder: input scaled by sqrt(d), pre-LN layers, causal mask, final LN; expects [seq, batch, d]."""

    def __init__(self, d, heads, layers):
        super().__init__()
        self.d = d
        self.layers = nn.ModuleList([EncoderLayer(d, heads) for _ in range(layers)])
        self.layer_norm = nn.LayerNorm(d)

    def forward(self, x):
        x = math.sqrt(self.d) * x
        mask = future_mask(x.shape[0])
        for layer in self.layers:
            x = layer(x, mask)
        return self.layer_norm(x)
