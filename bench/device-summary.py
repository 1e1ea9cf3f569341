#!/usr/bin/env python3
"""Adds "summary" to bench/device.sh's device-bench.json: the per-step medians of smcirc (Dawn) and of the PyTorch
peer side by side, and their ratios (smcirc ms / PyTorch ms: above 1, smcirc is slower). Standard library only; the
JSON is rewritten in place (indented). usage: python3 bench/device-summary.py OUT/device-bench.json"""
import json
import sys


def torch_step_ms(result):
    """The peer's median step in ms, and the key it came from: ms keys as they are, seconds keys times 1000."""
    if not isinstance(result, dict):
        return None, None
    ms_keys = ['median_step_ms', 'step_ms_median', 'ms_per_step_median', 'median_ms']
    s_keys = ['seconds_per_step_median', 'median_step_s', 'step_s_median', 'median_s', 'median_seconds']
    for k in ms_keys:
        if isinstance(result.get(k), (int, float)):
            return float(result[k]), k
    for k in s_keys:
        if isinstance(result.get(k), (int, float)):
            return float(result[k]) * 1000, k
    for k, v in result.items():
        if 'median' in k and isinstance(v, (int, float)) and not isinstance(v, bool):
            if 'ms' in k:
                return float(v), k
            if k.endswith('_s') or 'second' in k:
                return float(v) * 1000, k
    return None, None


def ratio(a, b):
    return round(a / b, 3) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0 else None


def main(path):
    with open(path) as f:
        doc = json.load(f)
    parts = doc.get('parts', {})
    step = (parts.get('smcirc_step') or {}).get('result') or {}
    if not isinstance(step, dict):
        step = {}
    train = parts.get('smcirc_train') or {}
    s = {
        'adapter': (step.get('adapter') or {}).get('described') or doc.get('environment', {}).get('adapter'),
        'gpu': (doc.get('environment', {}).get('gpu') or {}).get('name'),
        'spec': doc.get('config', {}).get('spec'),
        'batch': doc.get('config', {}).get('batch'),
        'smcirc_median_step_ms': step.get('median_step_ms'),
        'smcirc_min_step_ms': step.get('min_step_ms'),
        'smcirc_first_step_ms': step.get('first_step_ms'),
        'smcirc_steps_timed': step.get('steps_timed'),
        'smcirc_samples_per_s': step.get('samples_per_s'),
        'smcirc_losses_finite': step.get('losses_finite'),
        'smcirc_grad_norms_finite': step.get('grad_norms_finite'),
        'smcirc_compile_s': step.get('compile_s'),
        'smcirc_load_s': step.get('load_s'),
        'smcirc_dispatches': (step.get('dispatches') or {}).get('train'),
        'smcirc_kernels_summed_ms': (step.get('profile') or {}).get('kernels_summed_ms'),
        'smcirc_profile_source': (step.get('profile') or {}).get('source'),
        'smcirc_flagged_per_route': (step.get('routing') or {}).get('flagged'),
        'smcirc_unrouted_median_step_ms': (step.get('routing') or {}).get('unrouted_median_step_ms'),
        'smcirc_cli_median_step_ms': train.get('median_step_ms'),
        'smcirc_cli_mean_step_ms': train.get('mean_step_ms'),
    }
    for name in ('torch_batched', 'torch_per_sample'):
        ms, key = torch_step_ms((parts.get(name) or {}).get('result'))
        s[f'{name}_median_step_ms'] = round(ms, 3) if ms is not None else None
        s[f'{name}_from_key'] = key
        s[f'smcirc_over_{name}'] = ratio(s['smcirc_median_step_ms'], ms)
    s['parts_ok'] = [k for k, v in parts.items() if isinstance(v, dict) and v.get('ok')]
    s['parts_not_ok'] = [k for k, v in parts.items() if isinstance(v, dict) and not v.get('ok')]
    doc['summary'] = s
    with open(path + '.tmp', 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    import os
    os.replace(path + '.tmp', path)
    print('summary: ' + json.dumps({k: v for k, v in s.items() if v is not None and not k.endswith('_from_key')}))


if __name__ == '__main__':
    main(sys.argv[1])
