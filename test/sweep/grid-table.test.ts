// The grid (cells, names, axis syntax, conflicts), sweep.json's refusal of another grid, and the table's formats on
// hand-made results — no training.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { collect, labelColumns } from '../../runtime/sweep/collect.js';
import { expandGrid, GridError, parseAxis, safeSegment, trainArgs, uniqueNames, type SweepGrid } from '../../runtime/sweep/grid.js';
import { createOrCheckSweep } from '../../runtime/sweep/manifest.js';
import { conditionsOf, formatTable } from '../../runtime/sweep/table.js';

const grid = (g: Partial<SweepGrid>): SweepGrid => ({ specs: ['/s/a.smcir'], data: ['synthetic'], set: [], axes: [], seeds: [1111], backend: 'reference', max_epochs: null, max_steps: null, ...g });

describe('grid', () => {
  test('specs × axes × seeds, seeds innermost, folders named by coordinates', () => {
    const cells = expandGrid(grid({ specs: ['/s/a.smcir', '/s/ablations/b.smcir'], axes: [parseAxis('eta=0.4,0.6'), parseAxis('train.lr=1e-3')], seeds: [1111, 1112] }));
    expect(cells.map((c) => c.id)).toEqual([
      'a/eta=0.4,train.lr=1e-3/seed-1111',
      'a/eta=0.4,train.lr=1e-3/seed-1112',
      'a/eta=0.6,train.lr=1e-3/seed-1111',
      'a/eta=0.6,train.lr=1e-3/seed-1112',
      'b/eta=0.4,train.lr=1e-3/seed-1111',
      'b/eta=0.4,train.lr=1e-3/seed-1112',
      'b/eta=0.6,train.lr=1e-3/seed-1111',
      'b/eta=0.6,train.lr=1e-3/seed-1112',
    ]);
    expect(cells[2]!.row).toBe('a/eta=0.6,train.lr=1e-3');
    expect(trainArgs(grid({ set: ['T_L=8'], axes: [parseAxis('eta=0.4,0.6')], max_epochs: 2 }), cells[2]!, '/out/x')).toEqual([
      'train', '/s/a.smcir', '--out', '/out/x', '--seed', '1111', '--backend', 'reference', '--set', 'T_L=8', '--set', 'eta=0.6', '--max-epochs', '2',
    ]);
  });

  test('a data axis and colliding file names get distinguishing folder names', () => {
    const names = uniqueNames(['/d/MOSI/unaligned_50.pkl', '/d/MOSEI/unaligned_50.pkl']);
    expect([...names.values()]).toEqual(['MOSI_unaligned_50', 'MOSEI_unaligned_50']);
    const cells = expandGrid(grid({ data: ['/d/MOSI/unaligned_50.pkl', '/d/MOSEI/unaligned_50.pkl', 'synthetic'] }));
    expect(cells.map((c) => c.id)).toEqual(['a/data=MOSI_unaligned_50/seed-1111', 'a/data=MOSEI_unaligned_50/seed-1111', 'a/data=synthetic/seed-1111']);
    expect(trainArgs(grid({}), cells[0]!, '/o')).toContain('/d/MOSI/unaligned_50.pkl');
    expect(trainArgs(grid({}), cells[2]!, '/o')).not.toContain('--data');
  });

  test('--grid splits at commas, or at | when a value is itself a list; names stay filesystem-safe', () => {
    expect(parseAxis('eta=0.4, 0.6')).toEqual({ key: 'eta', values: ['0.4', '0.6'] });
    expect(parseAxis('eval.conditions=L,LV|LVA')).toEqual({ key: 'eval.conditions', values: ['L,LV', 'LVA'] });
    expect(() => parseAxis('eta')).toThrow(GridError);
    expect(() => parseAxis('eta=0.4,,0.6')).toThrow(/empty/);
    expect(() => parseAxis('eta=0.4,0.4')).toThrow(/repeated/);
    expect(safeSegment('eta=0.4')).toBe('eta=0.4');
    const odd = safeSegment('entropy=a b/c');
    expect(odd).toMatch(/^entropy=a_b_c-[0-9a-f]{8}$/);
    expect(safeSegment('entropy=a b_c')).not.toBe(odd);
    expect(safeSegment('.hidden')).toMatch(/^_\.hidden-/);
  });

  test('conflicts are refused: a --set that is also an axis, an axis or seed given twice', () => {
    expect(() => expandGrid(grid({ set: ['eta=0.5'], axes: [parseAxis('eta=0.4,0.6')] }))).toThrow(/both a --set and a --grid/);
    expect(() => expandGrid(grid({ axes: [parseAxis('eta=0.4'), parseAxis('eta=0.6')] }))).toThrow(/twice/);
    expect(() => expandGrid(grid({ seeds: [1, 1] }))).toThrow(/seed is given twice/);
    expect(() => expandGrid(grid({ specs: [] }))).toThrow(/no spec/);
  });

  test('sweep.json: the same grid continues, another is refused naming the difference', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smcirc-sweep-grid-'));
    expect(createOrCheckSweep(dir, grid({ seeds: [1, 2] })).created).toBe(true);
    expect(createOrCheckSweep(dir, grid({ seeds: [1, 2] })).created).toBe(false);
    expect(() => createOrCheckSweep(dir, grid({ seeds: [1, 2, 3] }))).toThrow(/holds another sweep[\s\S]*seeds: \[1,2\] before, \[1,2,3\] now/);
  });
});

/** A finished cell: results.json as `smcirc train` writes it, one seed. */
function finishCell(dir: string, id: string, seed: number, acc: number, mae: number): void {
  mkdirSync(join(dir, id), { recursive: true });
  const metrics = { Has0_acc_2: acc, Has0_F1_score: acc, Non0_acc_2: acc, Non0_F1_score: acc, Mult_acc_5: 0.5, Mult_acc_7: 0.25, MAE: mae, Corr: 0.5 };
  const conditions = ['LVA', 'L'].map((condition) => ({ condition, metrics, flagged: { vision: 0, audio: 0, both: 0 } }));
  writeFileSync(join(dir, id, 'results.json'), JSON.stringify({ seeds: [{ seed, conditions }], mean_std: {} }));
}

describe('table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smcirc-sweep-table-'));
  const { manifest } = createOrCheckSweep(dir, grid({ specs: ['/s/with-msse.smcir', '/s/no_msse.smcir', '/s/never.smcir'], seeds: [1111, 1112] }));
  finishCell(dir, 'with-msse/seed-1111', 1111, 0.8, 0.7);
  finishCell(dir, 'with-msse/seed-1112', 1112, 0.82, 0.72);
  finishCell(dir, 'no_msse/seed-1111', 1111, 0.75, 0.8);
  const rows = collect(dir, manifest);
  const o = { metrics: ['Has0_acc_2', 'MAE'], conditions: conditionsOf(rows), labels: labelColumns(manifest), seeds: [1111, 1112], dir: 'runs/t' };

  test('Markdown: mean ± std ×100 for accuracies, MAE as it is; "—" and "*" explained', () => {
    expect(o.conditions).toEqual(['LVA', 'L']);
    const md = formatTable(rows, { ...o, format: 'md' });
    const lines = md.split('\n');
    expect(lines[0]).toMatch(/^\| spec\s+\| LVA Has0_acc_2 \|\s+LVA MAE \|\s+L Has0_acc_2 \|\s+L MAE \|$/);
    expect(lines[1]).toMatch(/^\|:-+\|-+:\|-+:\|-+:\|-+:\|$/);
    expect(lines[2]).toMatch(/^\| with-msse \| +81\.00 ± 1\.00 \| +0\.710 ± 0\.010 \|/);
    expect(lines[3]).toMatch(/^\| no_msse +\| +75\.00 ± 0\.00\* \| 0\.800 ± 0\.000\* \|/);
    expect(lines[4]).toMatch(/^\| never +\| +— \| +— \| +— \| +— \|$/);
    expect(md).toContain('— not finished: never (2 not started).');
    expect(md).toContain("* over fewer seeds than the grid's 2: no_msse (1; 1 not started).");
    expect(md).toContain('mean ± std over seeds 1111, 1112');
  });

  test('CSV: mean and std in columns, empty when unfinished, seeds counted', () => {
    const csv = formatTable(rows, { ...o, format: 'csv' }).trim().split('\n');
    expect(csv[0]).toBe('spec,LVA Has0_acc_2,LVA Has0_acc_2 std,LVA MAE,LVA MAE std,L Has0_acc_2,L Has0_acc_2 std,L MAE,L MAE std,seeds,seeds_in_grid');
    expect(csv[1]).toBe('with-msse,81.00,1.00,0.710,0.010,81.00,1.00,0.710,0.010,2,2');
    expect(csv[3]).toBe('never,,,,,,,,,0,2');
  });

  test('LaTeX: booktabs, one column group per condition, escaped names', () => {
    const tex = formatTable(rows, { ...o, format: 'latex' });
    expect(tex).toContain('\\begin{tabular}{lcccc}');
    expect(tex).toContain(' & \\multicolumn{2}{c}{LVA} & \\multicolumn{2}{c}{L} \\\\');
    expect(tex).toContain('\\cmidrule(lr){2-3} \\cmidrule(lr){4-5}');
    expect(tex).toContain('spec & Has0\\_acc\\_2 & MAE & Has0\\_acc\\_2 & MAE \\\\');
    expect(tex).toContain('with-msse & 81.00 $\\pm$ 0.00'.replace('0.00', '1.00'));
    expect(tex).toContain('no\\_msse & 75.00 $\\pm$ 0.00$^{*}$');
    expect(tex).toContain('never & --- & --- & --- & --- \\\\');
    for (const k of ['\\toprule', '\\midrule', '\\bottomrule', '\\end{tabular}']) expect(tex).toContain(k);
  });
});
