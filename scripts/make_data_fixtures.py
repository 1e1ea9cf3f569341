#!/usr/bin/env python3
"""Writes the small MMSA-layout pickle fixtures and the MT19937 frame-mask goldens
used by test/data/*.test.ts.  The outputs are committed so CI needs no Python.

Run it twice, once per numpy major version (the data are identical because they come
from numpy's legacy RandomState, which is stable across versions):

    python3 scripts/make_data_fixtures.py            # numpy 2.x  -> *_np2*.pkl, frame_masks.json
    /usr/bin/python3 scripts/make_data_fixtures.py   # numpy 1.x  -> *_np1*.pkl

How ndarrays are pickled depends on the numpy major version:
  numpy 1.x  REDUCE numpy.core.multiarray._reconstruct   (protocol 5: numpy.core.numeric._frombuffer)
  numpy 2.x  REDUCE numpy._core.multiarray._reconstruct  (protocol 5: numpy._core.numeric._frombuffer)
If no numpy 1.x interpreter is available, `--np1-style` makes a numpy-2 interpreter emit the
protocol-2 numpy-1.x fixture by byte-patching the GLOBAL opcode's module line
("numpy._core.multiarray\\n" -> "numpy.core.multiarray\\n").  In protocol 2 a GLOBAL is two
newline-terminated text lines with no length prefix and there are no FRAME opcodes, so the
patch yields exactly the stream numpy 1.x writes (checked: for mmsa_aligned_p2_np1 the patched
numpy-2.4 output is byte-identical to numpy 1.24's).  The committed *_np1* fixtures were written
by a real numpy 1.24 (Debian's /usr/bin/python3).

`mmsa_torch_p4_np2.pkl` imitates an MMSA-FET file saved with return_type='pt': `text` is a
torch.Tensor reduced through torch._utils._rebuild_tensor_v2 (faked here; torch is not needed).

Also writes `<fixture>.expected.json` with what the TypeScript loader must return:
shapes, dtypes, ids, labels, -inf counts, and a weighted checksum of every feature array
(after MMSA's float32 cast and audio -inf -> 0), computed sequentially in float64 so the
TypeScript side can reproduce it bit-for-bit.
"""
import json
import os
import pickle
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'data')
NP_MAJOR = int(np.__version__.split('.')[0])
SPLITS = (('train', 5), ('valid', 3), ('test', 4))
TEXT_T, TEXT_D = 6, 12
A_D, V_D = 5, 20


def checksum(a):
    """sum_i float64(v_i) * ((i % 7) + 1), sequential, row-major."""
    s = 0.0
    for i, v in enumerate(np.asarray(a, dtype=np.float64).ravel().tolist()):
        s += v * ((i % 7) + 1)
    return s


def make_split(rs, name, n, aligned, variant):
    ta = 6 if aligned else 9
    tv = 6 if aligned else 11
    text = rs.normal(0, 1, size=(n, TEXT_T, TEXT_D)).astype(np.float32)
    audio = rs.normal(0, 1, size=(n, ta, A_D))  # float64, as MMSA ships it
    vision = rs.normal(0, 1, size=(n, tv, V_D))  # float64
    if variant != 'bad':
        # MMSA's audio contains -inf (log of 0 energy); plant a few.
        idx = rs.randint(0, audio.size, size=3)
        audio.ravel()[idx] = -np.inf
    ids = np.array([f'vid{n}_{name}$_${j}' if j else f'café_{name}$_$0' for j in range(n)], dtype=object)
    raw_text = np.array([f'utterance {j} of {name} ü' for j in range(n)])  # <U fixed-width
    bert = np.zeros((n, 3, TEXT_T), dtype=np.int64)
    for j in range(n):
        ln = TEXT_T if j == 0 else 2 + (j % (TEXT_T - 2))
        bert[j, 0, :ln] = rs.randint(1000, 3000, size=ln)
        bert[j, 0, 0], bert[j, 0, ln - 1] = 101, 102
        bert[j, 1, :ln] = 1
    labels = np.round(rs.uniform(-3, 3, size=n) * 3) / 3
    labels[0] = 0.0
    if n > 2:
        labels[1] = -3.0
        labels[2] = 2.5
    labels = labels.astype(np.float32)
    cls = np.where(labels < 0, 0, np.where(labels == 0, 1, 2)).astype(np.int64)
    ann = np.array(['Negative', 'Neutral', 'Positive'])[cls]
    d = {
        'id': ids, 'raw_text': raw_text, 'text': text, 'text_bert': bert,
        'audio': audio, 'vision': vision,
        'annotations': ann, 'classification_labels': cls.astype(np.float64),
        'regression_labels': labels,
    }
    if not aligned:
        d['audio_lengths'] = [int(x) for x in rs.randint(1, ta + 1, size=n)]  # a Python list, as MMSA has
        d['vision_lengths'] = rs.randint(1, tv + 1, size=n).astype(np.int64)  # an int64 array
    if variant == 'edge':
        d['vision'] = vision.astype('>f8')  # big-endian: must be byte-swapped
        d['regression_labels'] = [float(x) for x in labels]  # a list, MMSA np.array()s it
        for m in 'TAV':
            d['regression_labels_' + m] = labels.copy()  # SIMS-style unimodal labels
        d['audio_lengths'] = [np.int64(x) for x in rs.randint(1, ta + 1, size=n)] if not aligned else None
        if d['audio_lengths'] is None:
            del d['audio_lengths']
    if variant == 'bad' and name == 'valid':
        d['vision'] = vision[:-1]  # N mismatch: 2 rows where the split has 3
    return d


def expected_for(data):
    exp = {}
    for split, d in data.items():
        if split not in ('train', 'valid', 'test'):
            continue
        audio = np.asarray(d['audio']).astype(np.float32)
        ninf = int(np.sum(audio == -np.inf))
        audio[audio == -np.inf] = 0
        text = np.asarray(d['text']).astype(np.float32)
        vision = np.asarray(d['vision']).astype(np.float32)
        e = {
            'n': len(d['id']),
            'ids': [str(x) for x in d['id']],
            'raw_text': [str(x) for x in d['raw_text']],
            'annotations': [str(x) for x in d['annotations']],
            'labels': [float(x) for x in np.asarray(d['regression_labels'], dtype=np.float32)],
            'textShape': list(text.shape[1:]), 'audioShape': list(audio.shape[1:]), 'visionShape': list(vision.shape[1:]),
            'textSum': checksum(text), 'audioSum': checksum(audio), 'visionSum': checksum(vision),
            'textBertSum': int(np.asarray(d['text_bert']).sum()),
            'audioNegInf': ninf,
            'dtypes': {k: np.asarray(d[k]).dtype.str for k in ('text', 'audio', 'vision', 'text_bert')},
        }
        if 'audio_lengths' in d:
            e['audioLengths'] = [int(x) for x in d['audio_lengths']]
            e['visionLengths'] = [int(x) for x in d['vision_lengths']]
        exp[split] = e
    return exp


def build(seed, aligned, variant=''):
    rs = np.random.RandomState(seed)
    data = {name: make_split(rs, name, n, aligned, variant) for name, n in SPLITS}
    if variant == 'edge':
        data['config'] = {'featurePath': 'x', 'seq_lens': [6, 11, 9], 'feature_dims': [12, 5, 20]}
    return data


def write(name, data, protocol, np1_patch=False):
    blob = pickle.dumps(data, protocol=protocol)
    if np1_patch:
        assert protocol == 2
        blob = blob.replace(b'cnumpy._core.multiarray\n', b'cnumpy.core.multiarray\n')
        assert b'numpy._core' not in blob
    with open(os.path.join(OUT, name + '.pkl'), 'wb') as f:
        f.write(blob)
    if variant_expected(name):
        with open(os.path.join(OUT, name + '.expected.json'), 'w') as f:
            json.dump(expected_for(data), f, indent=1, ensure_ascii=False)
    print('wrote', name, len(blob), 'bytes')


def variant_expected(name):
    return 'bad' not in name and 'torch' not in name


def torch_like():
    import types
    torch = types.ModuleType('torch')
    tu = types.ModuleType('torch._utils')

    def _rebuild_tensor_v2(*args):
        return None
    _rebuild_tensor_v2.__module__ = 'torch._utils'
    _rebuild_tensor_v2.__qualname__ = '_rebuild_tensor_v2'
    tu._rebuild_tensor_v2 = _rebuild_tensor_v2
    sys.modules.setdefault('torch', torch)
    sys.modules.setdefault('torch._utils', tu)

    class FakeTensor:
        def __reduce__(self):
            return (_rebuild_tensor_v2, ('storage', 0, (2, 6, 12), (72, 12, 1), False))

    data = build(26, True)
    for d in data.values():
        d['text'] = FakeTensor()
    return data


# ---- MT19937 frame masks, exactly as TFR-Net / MMSA generate_m -------------------------

def generate_m(modality, input_mask, input_len, missing_rate, missing_seed, mode='text'):
    # Verbatim logic of TFR-Net data/load_data.py MMDataset.generate_m.
    if mode == 'text':
        input_len = np.argmin(input_mask, axis=1)
    elif mode == 'audio' or mode == 'vision':
        input_mask = np.array([np.array([1] * length + [0] * (modality.shape[1] - length)) for length in input_len])
    np.random.seed(missing_seed)
    missing_mask = (np.random.uniform(size=input_mask.shape) > missing_rate) * input_mask
    assert missing_mask.shape == input_mask.shape
    if mode == 'text':
        for i, instance in enumerate(missing_mask):
            instance[0] = instance[input_len[i] - 1] = 1
        modality_m = missing_mask * modality + (100 * np.ones_like(modality)) * (input_mask - missing_mask)
    else:
        modality_m = missing_mask.reshape(modality.shape[0], modality.shape[1], 1) * modality
    return modality_m, input_len, input_mask, missing_mask


def bits(a):
    return ''.join('1' if x else '0' for x in np.asarray(a).ravel().tolist())


def write_masks():
    out = {'uniform': [], 'frame': [], 'text': []}
    for seed in (0, 1, 111, 1111, 11111, 4294967295):
        np.random.seed(seed)
        u = np.random.uniform(size=(3, 7))
        out['uniform'].append({'seed': seed, 'values': [repr(float(x)) for x in u.ravel()]})
    for seed, n in ((0, 10), (1111, 37), (42, 1284)):
        out.setdefault('permutation', []).append(
            {'seed': seed, 'n': n, 'perm': [int(x) for x in np.random.RandomState(seed).permutation(n)]})
    rg = np.random.RandomState(2024)
    out['gauss'] = {'seed': 2024, 'values': [repr(float(x)) for x in rg.normal(size=9)]}
    rs = np.random.RandomState(7)
    n, T = 9, 23
    lengths = [int(x) for x in rs.randint(0, T + 1, size=n)]
    lengths[0] = T
    modality = np.ones((n, T, 2), dtype=np.float32)
    for seed in (111, 1111, 11111):
        for rate in (0.0, 0.1, 0.2, 0.5, 0.7, 0.9, 1.0):
            m_m, _, in_mask, miss = generate_m(modality, None, lengths, rate, seed, mode='audio')
            out['frame'].append({'seed': seed, 'rate': rate, 'n': n, 'T': T, 'lengths': lengths,
                                 'inputMask': bits(in_mask), 'missingMask': bits(miss)})
    # text: BERT ids with an attention mask; row 0 is full length (argmin quirk -> len 0).
    Lt = 10
    ids = np.zeros((n, Lt), dtype=np.float32)
    mask = np.zeros((n, Lt), dtype=np.float32)
    tl = [Lt] + [int(x) for x in rs.randint(2, Lt + 1, size=n - 1)]
    for i, ln in enumerate(tl):
        ids[i, :ln] = rs.randint(1000, 2000, size=ln)
        ids[i, 0], ids[i, ln - 1] = 101, 102
        mask[i, :ln] = 1
    for seed in (111, 1111):
        for rate in (0.0, 0.3, 0.6, 1.0):
            text_m, text_len, _, miss = generate_m(ids, mask, None, rate, seed, mode='text')
            out['text'].append({'seed': seed, 'rate': rate, 'n': n, 'L': Lt,
                                'ids': [int(x) for x in ids.ravel()], 'mask': bits(mask),
                                'inputLen': [int(x) for x in text_len],
                                'missingMask': bits(miss), 'idsOut': [int(x) for x in text_m.ravel()]})
    with open(os.path.join(OUT, 'frame_masks.json'), 'w') as f:
        json.dump(out, f)
    print('wrote frame_masks.json')


def main():
    os.makedirs(OUT, exist_ok=True)
    if '--np1-style' in sys.argv:
        assert NP_MAJOR >= 2
        write('mmsa_aligned_p2_np1', build(11, True), 2, np1_patch=True)
        return
    if NP_MAJOR >= 2:
        write('mmsa_aligned_p4_np2', build(21, True), 4)
        write('mmsa_unaligned_p5_np2', build(22, False), 5)
        write('mmsa_unaligned_p2_np2', build(23, False), 2)
        write('mmsa_edge_p4_np2', build(24, False, 'edge'), 4)
        write('mmsa_bad_p4_np2', build(25, True, 'bad'), 4)
        write('mmsa_torch_p4_np2', torch_like(), 4)
        write_masks()
    else:
        write('mmsa_aligned_p2_np1', build(11, True), 2)
        write('mmsa_unaligned_p4_np1', build(12, False), 4)
        write('mmsa_unaligned_p5_np1', build(13, False), 5)


if __name__ == '__main__':
    main()
