#!/usr/bin/env python3
"""Writes test/fixtures/data/metric_goldens.json: MMSA regression metrics computed by MMSA's own
code path (metricsTop.py __eval_mosei_regression, with the torch tensors replaced by the float32
numpy arrays `.view(-1).cpu().numpy()` would give) using numpy + scikit-learn, plus numpy rounding
goldens.  Committed so CI needs no Python.

    /usr/bin/python3 scripts/make_metric_goldens.py     # needs numpy and scikit-learn
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, f1_score

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'data', 'metric_goldens.json')


def multiclass_acc(y_pred, y_true):
    return np.sum(np.round(y_pred) == np.round(y_true)) / float(len(y_true))


def eval_mosei_regression(test_preds, test_truth):
    # Same statements as MMSA metricsTop.py (commit 177bc04), minus the torch plumbing.
    test_preds_a7 = np.clip(test_preds, a_min=-3., a_max=3.)
    test_truth_a7 = np.clip(test_truth, a_min=-3., a_max=3.)
    test_preds_a5 = np.clip(test_preds, a_min=-2., a_max=2.)
    test_truth_a5 = np.clip(test_truth, a_min=-2., a_max=2.)
    mae = np.mean(np.absolute(test_preds - test_truth))
    with np.errstate(all='ignore'):
        corr = np.corrcoef(test_preds, test_truth)[0][1]
    mult_a7 = multiclass_acc(test_preds_a7, test_truth_a7)
    mult_a5 = multiclass_acc(test_preds_a5, test_truth_a5)
    non_zeros = np.array([i for i, e in enumerate(test_truth) if e != 0])
    if len(non_zeros):
        non_zeros_binary_truth = (test_truth[non_zeros] > 0)
        non_zeros_binary_preds = (test_preds[non_zeros] > 0)
        non_zeros_acc2 = accuracy_score(non_zeros_binary_preds, non_zeros_binary_truth)
        non_zeros_f1_score = f1_score(non_zeros_binary_truth, non_zeros_binary_preds, average='weighted', zero_division=0)
    else:  # MMSA would crash here; smcirc reports NaN
        non_zeros_acc2 = non_zeros_f1_score = np.float64('nan')
    binary_truth = (test_truth >= 0)
    binary_preds = (test_preds >= 0)
    acc2 = accuracy_score(binary_preds, binary_truth)
    f_score = f1_score(binary_truth, binary_preds, average='weighted', zero_division=0)
    return {
        "Has0_acc_2": round(acc2, 4),
        "Has0_F1_score": round(f_score, 4),
        "Non0_acc_2": round(non_zeros_acc2, 4),
        "Non0_F1_score": round(non_zeros_f1_score, 4),
        "Mult_acc_5": round(mult_a5, 4),
        "Mult_acc_7": round(mult_a7, 4),
        "MAE": round(mae, 4),
        "Corr": round(corr, 4),
    }


def num(v):
    v = float(str(v))  # np.float32(0.708) -> 0.708
    return 'NaN' if v != v else v


def f32list(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32)]


def main():
    rs = np.random.RandomState(20240601)
    cases = []

    def add(name, pred, truth):
        p = np.asarray(pred, dtype=np.float32).reshape(-1)
        t = np.asarray(truth, dtype=np.float32).reshape(-1)
        res = eval_mosei_regression(p, t)
        cases.append({'name': name, 'pred': f32list(p), 'truth': f32list(t), 'expected': {k: num(v) for k, v in res.items()}})

    # MOSI-like test split: labels are means of annotator scores (multiples of 1/3 and 0.2), many zeros
    t = np.round(rs.uniform(-3, 3, size=686) * 3) / 3
    t[rs.rand(686) < 0.08] = 0.0
    add('mosi_like_686', t + rs.normal(0, 0.9, size=686), t)
    # MOSEI-like size (numpy 1.x and 2.x sum identically below 8192 elements)
    t = np.round(rs.uniform(-3, 3, size=4659) * 3) / 3
    t[rs.rand(4659) < 0.2] = 0.0
    add('mosei_like_4659', 0.6 * t + rs.normal(0, 0.7, size=4659), t)
    # ties at .5: np.round sends halves to even, on both pred and truth
    halves = np.array([-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -2.5, 0.5, 1.5, 2.5])
    add('ties_half_even', halves, np.array([-3, -2, -2, 0, 0, 2, 2, 3, -3, 1, 1, 3], dtype=float))
    add('ties_truth_halves', np.array([0, 1, 2, 2, -2, -1, 0, 3, -3, 1]), np.array([0.5, 1.5, 2.5, 1.5, -2.5, -1.5, -0.5, 3.5, -3.5, 0.49999997]))
    # labels exactly 0: Has0 counts them positive, Non0 drops them
    add('zeros_in_truth', np.array([0.0, -0.0, -0.1, 0.1, 0.0, 1.0, -1.0, 0.0, 2.2, -2.2]), np.array([0.0, 0.0, 0.0, 0.0, 1.0, 0.0, -1.0, -0.4, 2.0, 0.0]))
    add('pred_exact_zero', np.array([0.0, 0.0, 0.0, 1.0, -1.0, 0.0]), np.array([-1.0, 1.0, 0.5, 1.0, -2.0, -0.2]))
    # all-same class
    add('all_positive_both', np.array([0.3, 1.2, 2.5, 0.01, 2.9]), np.array([1.0, 2.0, 0.2, 3.0, 0.6]))
    add('all_truth_positive_pred_mixed', np.array([-0.3, 1.2, -2.5, 0.01, 2.9, -1.0]), np.array([1.0, 2.0, 0.2, 3.0, 0.6, 1.4]))
    add('all_truth_negative_pred_positive', np.array([0.3, 1.2, 2.5]), np.array([-1.0, -2.0, -0.2]))
    add('all_truth_zero', np.array([0.3, -1.2, 0.0, 2.0]), np.array([0.0, 0.0, 0.0, 0.0]))
    # constant prediction -> Corr NaN
    add('constant_pred', np.full(20, 0.7), rs.uniform(-3, 3, size=20))
    # out of range: clipping for Acc-5/7, MAE unclipped
    add('out_of_range', np.array([4.2, -5.0, 2.6, -2.6, 3.49, 10.0, -3.51]), np.array([3.0, -3.0, 3.0, -2.0, 3.0, 2.5, -3.0]))
    # float32 cast matters: values that only round correctly as float32
    add('float32_edges', np.array([0.49999999, 1.50000001, 2.4999999, -0.50000001, 2.5000001]), np.array([0.5, 1.5, 2.5, -0.5, 2.5]))
    # perfect prediction
    tt = np.round(rs.uniform(-3, 3, size=50), 1)
    add('perfect', tt, tt)
    for k in range(6):
        n = int(rs.randint(2, 300))
        tt = np.round(rs.uniform(-3.2, 3.2, size=n) * 5) / 5
        add(f'random_{k}_{n}', tt * rs.uniform(-0.5, 1.5) + rs.normal(0, rs.uniform(0.1, 2), size=n), tt)

    vals = [-3.5, -2.5, -1.5, -0.5, -0.49999999999999994, 0.5, 1.5, 2.5, 3.5, 0.12345, 1.00005, 0.70805, 0.03125, 0.96875, 2.675, 0.4999999999, 123.45675]
    rounding = {
        'values': vals,
        'rint': [float(np.round(np.float64(v))) for v in vals],
        'round4_f64': [float(round(np.float64(v), 4)) for v in vals],
        'round4_f32': [float(str(round(np.float32(v), 4))) for v in vals],
        'round2_f64': [float(round(np.float64(v), 2)) for v in vals],
    }
    # float32 pairwise sums (np.sum / np.mean on float32); a[i] = float32((i * 7919 % 10007) / 101)
    sums = []
    for n in (5, 8, 100, 128, 129, 1000, 4659, 8192):
        a = (np.arange(n, dtype=np.int64) * 7919 % 10007 / 101.0).astype(np.float32)
        sums.append({'n': n, 'sum': float(np.sum(a)), 'mean': float(np.mean(a))})
    with open(OUT, 'w') as f:
        json.dump({'numpy': np.__version__, 'sklearn': sklearn.__version__, 'cases': cases, 'rounding': rounding, 'sums': sums}, f)
    print('wrote', OUT, len(cases), 'cases')


if __name__ == '__main__':
    main()
