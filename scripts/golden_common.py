"""Modules shared by torch_goldens.py (layer goldens) and model_goldens.py (whole-model goldens): the MulT/fairseq
Transformer encoder, with the parameter names our exported weights use, and Hugging Face's BertModel with its
checkpoint loading.
"""
import hashlib
import json
import math
import os

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


# ---- BERT: Hugging Face's BertModel (transformers/models/bert/modeling_bert.py) without the pooler ---------------
# Written out by hand (transformers is not installed), module for module and with HF's member names, in eval mode
# (dropout modules present, off). The extended attention mask is (1 - mask) * -10000 (HF before 4.27).

class BertEmbeddings(nn.Module):
    """The [PAD] row of word_embeddings (padding_idx = pad_token_id) never gets a gradient."""

    def __init__(self, cfg):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg['vocab_size'], cfg['hidden_size'], padding_idx=cfg.get('pad_token_id', 0))
        self.position_embeddings = nn.Embedding(cfg['max_position_embeddings'], cfg['hidden_size'])
        self.token_type_embeddings = nn.Embedding(cfg['type_vocab_size'], cfg['hidden_size'])
        self.LayerNorm = nn.LayerNorm(cfg['hidden_size'], eps=cfg['layer_norm_eps'])
        self.dropout = nn.Dropout(cfg['hidden_dropout_prob'])

    def forward(self, input_ids, token_type_ids):
        position_ids = torch.arange(input_ids.shape[1])[None, :]
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings += self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(embeddings))


class BertSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.num_attention_heads = cfg['num_attention_heads']
        self.attention_head_size = cfg['hidden_size'] // cfg['num_attention_heads']
        self.query = nn.Linear(cfg['hidden_size'], cfg['hidden_size'])
        self.key = nn.Linear(cfg['hidden_size'], cfg['hidden_size'])
        self.value = nn.Linear(cfg['hidden_size'], cfg['hidden_size'])
        self.dropout = nn.Dropout(cfg['attention_probs_dropout_prob'])

    def transpose_for_scores(self, x):  # [B, L, hidden] → [B, heads, L, head_size]
        return x.view(x.shape[:-1] + (self.num_attention_heads, self.attention_head_size)).permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask):
        query_layer = self.transpose_for_scores(self.query(hidden_states))
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))
        attention_scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
        attention_scores = attention_scores / math.sqrt(self.attention_head_size) + attention_mask
        attention_probs = self.dropout(F.softmax(attention_scores, dim=-1))
        context_layer = torch.matmul(attention_probs, value_layer).permute(0, 2, 1, 3).contiguous()
        return context_layer.view(context_layer.shape[:-2] + (-1,))


class BertSelfOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg['hidden_size'], cfg['hidden_size'])
        self.LayerNorm = nn.LayerNorm(cfg['hidden_size'], eps=cfg['layer_norm_eps'])
        self.dropout = nn.Dropout(cfg['hidden_dropout_prob'])

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)  # post-LN


class BertAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self = BertSelfAttention(cfg)
        self.output = BertSelfOutput(cfg)

    def forward(self, hidden_states, attention_mask):
        return self.output(self.self(hidden_states, attention_mask), hidden_states)


class BertIntermediate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        assert cfg['hidden_act'] == 'gelu', cfg['hidden_act']
        self.dense = nn.Linear(cfg['hidden_size'], cfg['intermediate_size'])

    def forward(self, hidden_states):
        return F.gelu(self.dense(hidden_states))  # ACT2FN['gelu']: the exact erf form


class BertOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg['intermediate_size'], cfg['hidden_size'])
        self.LayerNorm = nn.LayerNorm(cfg['hidden_size'], eps=cfg['layer_norm_eps'])
        self.dropout = nn.Dropout(cfg['hidden_dropout_prob'])

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = BertAttention(cfg)
        self.intermediate = BertIntermediate(cfg)
        self.output = BertOutput(cfg)

    def forward(self, hidden_states, attention_mask):
        attention_output = self.attention(hidden_states, attention_mask)
        return self.output(self.intermediate(attention_output), attention_output)


class BertEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(cfg) for _ in range(cfg['num_hidden_layers'])])

    def forward(self, hidden_states, attention_mask):
        for layer in self.layer:
            hidden_states = layer(hidden_states, attention_mask)
        return hidden_states


class BertModel(nn.Module):
    """BertModel(add_pooling_layer=False): the last hidden state [B, L, hidden]. `freeze_embeddings` runs the
    embedding block under torch.no_grad, as the released SMCIR does (its parameters get no .grad)."""

    def __init__(self, cfg):
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)

    def forward(self, input_ids, attention_mask, token_type_ids, freeze_embeddings=False):
        extended_attention_mask = (1.0 - attention_mask[:, None, None, :]) * -10000.0
        if freeze_embeddings:
            with torch.no_grad():
                embedding_output = self.embeddings(input_ids, token_type_ids)
        else:
            embedding_output = self.embeddings(input_ids, token_type_ids)
        return self.encoder(embedding_output, extended_attention_mask)


def load_bert_checkpoint(folder, sha256=None):
    """config.json and pytorch_model.bin of a Hugging Face folder → (config, BertModel state dict), renamed as
    from_pretrained does for bert-base-uncased: the `bert.` prefix dropped, LayerNorm gamma/beta → weight/bias,
    the pooler and pre-training heads left out. `sha256`: the file the exporter read must be this one."""
    path = os.path.join(folder, 'pytorch_model.bin')
    if sha256 is not None:
        with open(path, 'rb') as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha256, f'{path} changed since the golden request was exported'
    with open(os.path.join(folder, 'config.json')) as f:
        cfg = json.load(f)
    sd = {}
    for k, v in torch.load(path).items():
        k = k[len('bert.'):] if k.startswith('bert.') else k
        if k.startswith(('pooler.', 'cls.')):
            continue
        k = k.replace('LayerNorm.gamma', 'LayerNorm.weight').replace('LayerNorm.beta', 'LayerNorm.bias')
        sd[k] = v.float()
    return cfg, sd


def spec_bert_name(hf_name, member='bert'):
    """A BertModel parameter's name in our specs: under the member, BertModel's `output` members named `out`
    (`output` is a keyword of the .smcir language; specs/lib/bert.smcir)."""
    return member + '.' + '.'.join('out' if part == 'output' else part for part in hf_name.split('.'))
