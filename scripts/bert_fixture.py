#!/usr/bin/python3
"""Writes the tiny-BERT checkpoint fixtures read by test/weights/*.test.ts (runtime/weights/).

A random BERT (vocab 40, hidden 8, 2 layers, 2 heads, FFN 16, 16 positions, 2 token types) in the ORIGINAL
bert-base-uncased naming (`bert.` prefix, `LayerNorm.gamma/beta`, `bert.pooler.*`, `cls.*` heads with the decoder
tied to the word embeddings), saved three ways, each in its own folder with a config.json:

  tiny-safetensors/model.safetensors     written by hand (8-byte header length + JSON header + F32 data)
  tiny-zip/pytorch_model.bin             torch.save(sd, f)                                  (torch >= 1.6 zip)
  tiny-legacy/pytorch_model.bin          torch.save(sd, f, _use_new_zipfile_serialization=False)
  expected.json                          per tensor: shape and sha256 of its float32 little-endian bytes

plus dtypes/ (f16, bf16, f64, int64 storages, a transposed view, a slice, a stride-0 view, 0-d and empty
tensors, in both torch formats, a big-endian zip, a deflated zip and a pickle-protocol-4 zip; expected.json holds each tensor's float32 bit patterns)
and hostile/ (a nested `os.system`, truncated zip and legacy files, a renamed and a mis-shaped tensor).

The outputs are committed (CI has no Python). Run with Debian's python3-torch:  /usr/bin/python3 scripts/bert_fixture.py
The legacy format keys storages by memory address, so its bytes differ between runs; the tensors do not.
"""
import hashlib
import io
import json
import os
import struct
import zipfile
from collections import OrderedDict

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'bert')

CONFIG = OrderedDict([
    ('architectures', ['BertForPreTraining']),
    ('attention_probs_dropout_prob', 0.1),
    ('hidden_act', 'gelu'),
    ('hidden_dropout_prob', 0.1),
    ('hidden_size', 8),
    ('initializer_range', 0.02),
    ('intermediate_size', 16),
    ('layer_norm_eps', 1e-12),
    ('max_position_embeddings', 16),
    ('model_type', 'bert'),
    ('num_attention_heads', 2),
    ('num_hidden_layers', 2),
    ('pad_token_id', 0),
    ('type_vocab_size', 2),
    ('vocab_size', 40),
])


def tiny_state_dict(c=CONFIG):
    g = torch.Generator().manual_seed(1234)
    H, F, V, P, T = c['hidden_size'], c['intermediate_size'], c['vocab_size'], c['max_position_embeddings'], c['type_vocab_size']

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.5

    def ln(sd, prefix):
        sd[prefix + '.gamma'] = 1 + 0.1 * torch.randn(H, generator=g)
        sd[prefix + '.beta'] = 0.1 * torch.randn(H, generator=g)

    def dense(sd, prefix, out_f, in_f):
        sd[prefix + '.weight'] = r(out_f, in_f)
        sd[prefix + '.bias'] = r(out_f)

    sd = OrderedDict()
    sd['bert.embeddings.word_embeddings.weight'] = r(V, H)
    sd['bert.embeddings.position_embeddings.weight'] = r(P, H)
    sd['bert.embeddings.token_type_embeddings.weight'] = r(T, H)
    ln(sd, 'bert.embeddings.LayerNorm')
    for i in range(c['num_hidden_layers']):
        p = f'bert.encoder.layer.{i}'
        for m in ('query', 'key', 'value'):
            dense(sd, f'{p}.attention.self.{m}', H, H)
        dense(sd, f'{p}.attention.output.dense', H, H)
        ln(sd, f'{p}.attention.output.LayerNorm')
        dense(sd, f'{p}.intermediate.dense', F, H)
        dense(sd, f'{p}.output.dense', H, F)
        ln(sd, f'{p}.output.LayerNorm')
    dense(sd, 'bert.pooler.dense', H, H)
    sd['cls.predictions.bias'] = r(V)
    dense(sd, 'cls.predictions.transform.dense', H, H)
    ln(sd, 'cls.predictions.transform.LayerNorm')
    # BertForPreTraining ties the decoder to the word embeddings: one storage, pickled once, memoised.
    sd['cls.predictions.decoder.weight'] = sd['bert.embeddings.word_embeddings.weight']
    dense(sd, 'cls.seq_relationship', 2, H)
    # A real state_dict() carries module versions in `_metadata` (pickled through BUILD).
    sd._metadata = OrderedDict([('', {'version': 1}), ('bert', {'version': 1}), ('bert.embeddings', {'version': 1})])
    return sd


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def write_config(folder, config=CONFIG):
    write(os.path.join(folder, 'config.json'), (json.dumps(config, indent=2) + '\n').encode())


# The BERT of specs/smcir-bert-tiny.smcir (vocab 128, hidden d_L = 16, FFN 32), for `--init bert=…` and the
# whole-model golden: one pytorch_model.bin in the zip format, original naming, with its pooler and cls heads.
SMCIR_TINY_CONFIG = OrderedDict(CONFIG)
SMCIR_TINY_CONFIG.update(hidden_size=16, intermediate_size=32, vocab_size=128)


def save_zip(sd):
    buf = io.BytesIO()  # saving to a buffer names the zip's record folder `archive/`, as for most downloads
    torch.save(sd, buf)
    return buf.getvalue()


def save_legacy(sd):
    buf = io.BytesIO()
    torch.save(sd, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def safetensors_bytes(sd):
    """The safetensors format by hand: u64 LE header length, JSON header (padded with spaces), raw data."""
    header = OrderedDict([('__metadata__', {'format': 'pt'})])
    blobs, offset = [], 0
    for name, t in sd.items():
        b = t.detach().contiguous().to(torch.float32).numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - (len(h) + 8) % 8) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(blobs)


def f32_sha(t):
    return hashlib.sha256(t.detach().contiguous().to(torch.float32).numpy().astype('<f4').tobytes()).hexdigest()


def f32_bits(t):
    a = t.detach().to(torch.float32).contiguous().numpy().astype('<f4').reshape(-1)
    return ['%08x' % x for x in a.view('<u4').tolist()]


def dtypes_state_dict():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.37 - 1.5
    h = torch.tensor([1.5, -2.0, 0.25, 6e-8, 65504.0, -0.0, float('inf'), float('nan'), 1 / 3], dtype=torch.float16)
    sd = OrderedDict()
    sd['f32.transposed'] = base.t()  # stride (1, 4): not contiguous
    sd['f32.slice'] = base[1:, 1:3]  # storage offset 5, stride (4, 1)
    sd['f32.expanded'] = torch.tensor([7.0, 8.0, 9.0]).expand(2, 3)  # stride (0, 1)
    sd['f32.scalar'] = torch.tensor(2.5)
    sd['f32.empty'] = torch.zeros(0, 4)
    sd['f16'] = h
    sd['f16.transposed'] = torch.tensor([[1.0, 2.0, 3.0], [-4.0, 0.5, 1e-4]], dtype=torch.float16).t()
    sd['bf16'] = torch.tensor([1.0, -3.140625, 1e-20, 3e38, float('-inf')], dtype=torch.bfloat16)
    sd['f64'] = torch.tensor([1 / 3, -2.5, 1e-30, 1e300, 0.1], dtype=torch.float64)
    sd['i64.position_ids'] = torch.arange(16).unsqueeze(0)  # HF's position_ids buffer
    return sd


def big_endian_zip(little, sd):
    """A zip checkpoint as a big-endian machine writes it: storages byte-swapped and `byteorder` = big."""
    src = zipfile.ZipFile(io.BytesIO(little))
    pkl = next(n for n in src.namelist() if n.endswith('/data.pkl'))
    prefix = pkl[: -len('data.pkl')]
    # torch.save numbers storages '0', '1', ... in the order the pickler first meets them: the dict's order.
    elem, seen = {}, {}
    for t in sd.values():
        ptr = t.storage().data_ptr()
        if ptr not in seen:
            seen[ptr] = str(len(seen))
            elem[seen[ptr]] = t.element_size()
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as dst:
        for n in src.namelist():
            data = src.read(n)
            if n.startswith(prefix + 'data/'):
                k = elem[n[len(prefix) + len('data/'):]]
                data = b''.join(data[i:i + k][::-1] for i in range(0, len(data), k))
            dst.writestr(n, data)
        dst.writestr(prefix + 'byteorder', b'big')
    return out.getvalue()


class Evil:
    """Pickles as a call of os.system: the loader must refuse the global by name, never run it."""

    def __reduce__(self):
        return (os.system, ('echo pwned > /tmp/smcirc-pwned',))


def evil_zip(sd):
    # pickle writes os.system as `posix.system`; stand in a function that pickles as `os.system`.
    real = os.system

    def system(cmd):
        raise RuntimeError('never called')

    system.__module__, system.__qualname__ = 'os', 'system'
    os.system = system
    try:
        sd = OrderedDict(sd)
        sd._metadata = OrderedDict([('', {'version': 1}), ('bert.encoder', {'version': 1, 'hooks': [Evil()]})])
        return save_zip(sd)
    finally:
        os.system = real


def main():
    sd = tiny_state_dict()
    for folder, data, fname in [
        ('tiny-safetensors', safetensors_bytes(sd), 'model.safetensors'),
        ('tiny-zip', save_zip(sd), 'pytorch_model.bin'),
        ('tiny-legacy', save_legacy(sd), 'pytorch_model.bin'),
    ]:
        write(os.path.join(ROOT, folder, fname), data)
        write_config(os.path.join(ROOT, folder))
    spec_tiny = os.path.join(ROOT, 'smcir-bert-tiny')
    write(os.path.join(spec_tiny, 'pytorch_model.bin'), save_zip(tiny_state_dict(SMCIR_TINY_CONFIG)))
    write_config(spec_tiny, SMCIR_TINY_CONFIG)
    expected = OrderedDict((n, {'shape': list(t.shape), 'sha256': f32_sha(t)}) for n, t in sd.items())
    write(os.path.join(ROOT, 'expected.json'), (json.dumps({'config': CONFIG, 'tensors': expected}, indent=1) + '\n').encode())

    d = dtypes_state_dict()
    dz = os.path.join(ROOT, 'dtypes', 'dtypes.bin')
    os.makedirs(os.path.dirname(dz), exist_ok=True)
    torch.save(d, dz)  # saved to a path: the record folder is `dtypes/`, not `archive/`
    write(os.path.join(ROOT, 'dtypes', 'legacy.bin'), save_legacy(d))
    write(os.path.join(ROOT, 'dtypes', 'big-endian.bin'), big_endian_zip(open(dz, 'rb').read(), d))
    src = zipfile.ZipFile(dz)  # the same checkpoint re-zipped with deflate (torch stores; other tools may not)
    with zipfile.ZipFile(os.path.join(ROOT, 'dtypes', 'deflated.bin'), 'w', zipfile.ZIP_DEFLATED) as dst:
        for n in src.namelist():
            dst.writestr(n, src.read(n))
    p4 = io.BytesIO()  # pickle protocol 4: FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL
    torch.save(d, p4, pickle_protocol=4)
    write(os.path.join(ROOT, 'dtypes', 'protocol4.bin'), p4.getvalue())
    exp = OrderedDict((n, {'shape': list(t.shape), 'dtype': str(t.dtype).replace('torch.', ''), 'stride': list(t.stride()),
                           'offset': t.storage_offset(), 'f32_bits': f32_bits(t)}) for n, t in d.items())
    write(os.path.join(ROOT, 'dtypes', 'expected.json'), (json.dumps(exp, indent=1) + '\n').encode())

    hostile = os.path.join(ROOT, 'hostile')
    zip_bytes, legacy_bytes = save_zip(sd), save_legacy(sd)
    for folder, fname, data in [
        ('os-system', 'pytorch_model.bin', evil_zip(sd)),
        ('truncated-zip', 'pytorch_model.bin', zip_bytes[: len(zip_bytes) * 6 // 10]),
        ('truncated-legacy', 'pytorch_model.bin', legacy_bytes[: len(legacy_bytes) - 1000]),
    ]:
        write(os.path.join(hostile, folder, fname), data)
        write_config(os.path.join(hostile, folder))
    renamed = OrderedDict((n.replace('layer.1.attention.self.query.weight', 'layer.1.attention.self.qry.weight'), t) for n, t in sd.items())
    write(os.path.join(hostile, 'renamed', 'model.safetensors'), safetensors_bytes(renamed))
    write_config(os.path.join(hostile, 'renamed'))
    mis = OrderedDict(sd)
    mis['bert.encoder.layer.0.intermediate.dense.weight'] = sd['bert.encoder.layer.0.intermediate.dense.weight'].t().contiguous()
    write(os.path.join(hostile, 'misshaped', 'pytorch_model.bin'), save_legacy(mis))
    write_config(os.path.join(hostile, 'misshaped'))

    # Round trip through torch itself: what we wrote loads back to the same tensors.
    for folder in ('tiny-zip', 'tiny-legacy'):
        back = torch.load(os.path.join(ROOT, folder, 'pytorch_model.bin'))
        assert all(torch.equal(back[n], t) for n, t in sd.items())
    # (torch 1.13 ignores `byteorder`, torch >= 2.0 byte-swaps on load, so the big-endian zip is not checked here.)
    for name, path in [('zip', dz), ('legacy', os.path.join(ROOT, 'dtypes', 'legacy.bin')), ('p4', os.path.join(ROOT, 'dtypes', 'protocol4.bin')),
                       ('deflated', os.path.join(ROOT, 'dtypes', 'deflated.bin'))]:
        back = torch.load(path)
        for n, t in d.items():
            assert back[n].dtype == t.dtype and torch.equal(back[n].float().nan_to_num(), t.float().nan_to_num()), (name, n)
    print('wrote', ROOT)


if __name__ == '__main__':
    main()
