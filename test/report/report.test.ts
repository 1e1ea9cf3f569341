// The report's figure data (the JSON block of report.html) equals the run's CSV and JSON files; optional files that
// are absent are "not recorded", not errors; several runs are labelled by folder name; the page is self-contained.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { FigureData } from '../../runtime/report/figure-data.js';
import { thin } from '../../runtime/report/figures.js';
import { parseCsv, readRun, ReportError } from '../../runtime/report/read-run.js';
import { prefixIds } from '../../runtime/report/render.js';
import { writeReport } from '../../runtime/report/report.js';
import { CONDITIONS, METRICS, writeRunFixture } from './fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'smcirc-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A CSV as the test reads it, independently of the report's parser: header → column of raw strings. */
function csv(path: string): Record<string, string[]> {
  const [head, ...rows] = readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));
  return Object.fromEntries(head!.map((h, i) => [h, rows.map((r) => r[i]!)]));
}
const nums = (xs: string[]) => xs.map((x) => (x === '' ? null : Number(x)));
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** The figure data embedded in report.html. */
function embedded(html: string): FigureData {
  const m = /<script type="application\/json" id="figure-data">([\s\S]*?)<\/script>/.exec(readFileSync(html, 'utf8'));
  expect(m, 'figure-data block').not.toBeNull();
  return JSON.parse(m![1]!) as FigureData;
}

let n = 0;
async function report(runs: { name?: string; o?: Parameters<typeof writeRunFixture>[1] }[]) {
  const dirs = runs.map((r) => {
    const d = join(tmp, `case-${++n}`, r.name ?? 'run');
    writeRunFixture(d, r.o);
    return d;
  });
  const out = join(tmp, `case-${n}`, 'report');
  const r = await writeReport(dirs, out);
  return { dirs, out, html: r.html, page: readFileSync(r.html, 'utf8'), fd: embedded(r.html) };
}

const full = await report([{ o: { seeds: [1111, 1112], extra: { git: { commit: 'abc123', dirty: false }, host: 'ci-7' } } }]);

describe('figure data equals the run files', () => {
  const { dirs, out, page, fd } = full;
  const run = dirs[0]!;

  test('training: loss per step and validation L1 per epoch, per seed', () => {
    for (const seed of [1111, 1112]) {
      const steps = csv(join(run, `seed-${seed}`, 'history-steps.csv'));
      const mine = fd.training.steps.filter((s) => s.seed === seed);
      expect(mine.map((s) => s.step)).toEqual(nums(steps.step!));
      expect(mine.map((s) => s.epoch)).toEqual(nums(steps.epoch!));
      expect(mine.map((s) => s.loss)).toEqual(nums(steps.loss!));
      const epochs = csv(join(run, `seed-${seed}`, 'history-epochs.csv'));
      const e = fd.training.epochs.filter((s) => s.seed === seed);
      expect(e.map((x) => x.epoch)).toEqual(nums(epochs.epoch!));
      expect(e.map((x) => x.valid_l1)).toEqual(nums(epochs.valid_l1!));
      expect(e.map((x) => x.train_loss)).toEqual(nums(epochs.train_loss!));
      expect(e.filter((x) => x.kept).map((x) => x.epoch)).toEqual([json(join(run, `seed-${seed}`, 'results.json')).best_epoch]);
    }
    expect(new Set(fd.training.steps.map((s) => s.run))).toEqual(new Set(['run']));
  });

  test('test metrics: results.json mean_std per condition and metric; flag rates: mean and std over seeds', () => {
    const results = json(join(run, 'results.json'));
    for (const c of CONDITIONS) {
      for (const m of METRICS) {
        const got = fd.test_metrics.find((x) => x.condition === c && x.metric === m)!;
        expect(got, `${c} ${m}`).toMatchObject({ mean: results.mean_std[c][m].mean, std: results.mean_std[c][m].std, seeds: 2 });
      }
      for (const mod of ['vision', 'audio', 'both']) {
        const xs: number[] = results.seeds.map((s: { conditions: { condition: string; flagged: Record<string, number> }[] }) => s.conditions.find((x) => x.condition === c)!.flagged[mod]!);
        const mean = (xs[0]! + xs[1]!) / 2;
        const got = fd.dmfd_flagged.find((x) => x.condition === c && x.modality === mod)!;
        expect(got.mean).toBeCloseTo(mean, 12);
        expect(got.std).toBeCloseTo(Math.abs(xs[0]! - xs[1]!) / 2, 12);
      }
    }
  });

  test('DMFD: every score per condition, the thresholds, and precision/recall from state vs true_missing', () => {
    for (const seed of [1111, 1112]) {
      const s = csv(join(run, `seed-${seed}`, 'dmfd-scores.csv'));
      const thresholds = json(join(run, `seed-${seed}`, 'dmfd-thresholds.json'));
      for (const c of CONDITIONS) {
        const idx = s.condition!.flatMap((x, i) => (x === c ? [i] : []));
        for (const [score, state, truth, mod] of [['F_v', 'state_v', 'true_missing_v', 'vision'], ['F_a', 'state_a', 'true_missing_a', 'audio']] as const) {
          const series = fd.dmfd_scores.find((x) => x.seed === seed && x.condition === c && x.score === score)!;
          expect(series.modality).toBe(mod);
          expect(series.values).toEqual(idx.map((i) => Number(s[score]![i])));
          expect(series.states).toEqual(idx.map((i) => Number(s[state]![i])));
          expect(fd.dmfd_thresholds.find((t) => t.seed === seed && t.condition === c && t.score === score)!.threshold).toBe(thresholds[c][score]);
          let tp = 0, fp = 0, fn = 0;
          for (const i of idx) {
            const f = Number(s[state]![i]) >= 1;
            const t = Number(s[truth]![i]) === 1;
            tp += +(f && t);
            fp += +(f && !t);
            fn += +(!f && t);
          }
          const d = fd.dmfd_detection.find((x) => x.seed === seed && x.condition === c && x.modality === mod)!;
          expect([d.tp, d.fp, d.fn]).toEqual([tp, fp, fn]);
          expect(d.precision).toBeCloseTo(tp / (tp + fp), 12);
          expect(d.recall).toBeCloseTo(tp / (tp + fn), 12);
        }
      }
    }
    // pred and label are not scores; the fixture's flags are imperfect, so the figure shows something
    expect([...new Set(fd.dmfd_scores.map((x) => x.score))]).toEqual(['F_v', 'F_a']);
    expect(fd.dmfd_detection.some((d) => d.precision! < 1)).toBe(true);
  });

  test('missing-rate curve and AUILC as recorded', () => {
    for (const seed of [1111, 1112]) {
      const c = json(join(run, `seed-${seed}`, 'missing-curve.json'));
      for (const [metric, ys] of Object.entries(c.metrics as Record<string, number[]>)) {
        const mine = fd.missing_curve.filter((p) => p.seed === seed && p.metric === metric);
        expect(mine.map((p) => p.rate)).toEqual(c.rates);
        expect(mine.map((p) => p.value)).toEqual(ys);
        expect(fd.auilc.find((a) => a.seed === seed && a.metric === metric)!.auilc).toBe(c.auilc[metric]);
      }
    }
  });

  test('one SVG per figure, the same SVG inlined in report.html', () => {
    const svgs = readdirSync(out).filter((f) => f.endsWith('.svg')).sort();
    expect(svgs).toEqual(['fig1-training.svg', 'fig2-test-metrics.svg', 'fig3-dmfd-flagged.svg', 'fig4-dmfd-scores.svg', 'fig4b-dmfd-detection.svg', 'fig5-missing-curve.svg']);
    for (const f of svgs) {
      const svg = readFileSync(join(out, f), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(page.includes(svg), `${f} inlined`).toBe(true);
    }
    expect(fd.not_recorded).toEqual([]);
    expect(page).not.toContain('not-recorded"');
  });

  test('tables: run.json fields (top level; nested provenance flattened) and mean ± std ×100 as the paper prints', () => {
    const main = /<table class="fields" id="run-json">[\s\S]*?<\/table>/.exec(page)![0];
    expect(main).toContain('<code>host</code></th><td>ci-7</td>');
    expect(main).not.toContain('git.commit');
    for (const [k, v] of [['spec', 'spec/smcir-tiny.smcir'], ['overrides', 'eta=0.4'], ['seeds', '1111, 1112'], ['backend', 'reference'], ['git.commit', 'abc123'], ['git.dirty', 'false'], ['host', 'ci-7']]) {
      expect(page).toMatch(new RegExp(`<code>${k!.replace('.', '\\.')}</code></th><td>${v}</td>`));
    }
    const ms = json(join(run, 'results.json')).mean_std;
    const cell = (c: string, m: string) => new RegExp(`<tr data-run="run" data-condition="${c}">.*?<td data-metric="${m}" data-mean="([^"]+)" data-std="([^"]+)">([^<]+)</td>`).exec(page)!;
    const acc = cell('LVA', 'Has0_acc_2');
    expect([Number(acc[1]), Number(acc[2])]).toEqual([ms.LVA.Has0_acc_2.mean, ms.LVA.Has0_acc_2.std]);
    expect(acc[3]).toBe(`${(ms.LVA.Has0_acc_2.mean * 100).toFixed(2)} ± ${(ms.LVA.Has0_acc_2.std * 100).toFixed(2)}`);
    const mae = cell('L', 'MAE');
    expect(mae[3]).toBe(`${ms.L.MAE.mean.toFixed(3)} ± ${ms.L.MAE.std.toFixed(3)}`);
  });

  test('self-contained: no scripts to run, no external URLs, ids unique across the inlined SVGs', () => {
    expect([...page.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual(['<script type="application/json" id="figure-data">']);
    expect(page).not.toMatch(/<link\b|<img\b|<iframe\b|@import|\bsrc=/i);
    const urls = [...page.matchAll(/https?:\/\/[^\s"')<]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
    const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBe(new Set(ids).size);
    for (const m of page.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(m[1]);
  });
});

describe('optional files', () => {
  test('absent DMFD scores, thresholds and missing-rate curve are "not recorded", not errors', async () => {
    const { out, page, fd } = await report([{ o: { dmfd: false, curve: false } }]);
    expect(readdirSync(out).filter((f) => f.endsWith('.svg')).sort()).toEqual(['fig1-training.svg', 'fig2-test-metrics.svg', 'fig3-dmfd-flagged.svg']);
    expect(fd.dmfd_scores).toEqual([]);
    expect(fd.missing_curve).toEqual([]);
    expect(fd.not_recorded.map((x) => `${x.seed} ${x.file} ${x.why}`).sort()).toEqual(
      [1111, 1112].flatMap((s) => [`${s} seed-${s}/dmfd-scores.csv not recorded`, `${s} seed-${s}/dmfd-thresholds.json not recorded`, `${s} seed-${s}/missing-curve.json not recorded`]).sort(),
    );
    expect(page).toContain('DMFD scores (dmfd-scores.csv): not recorded (run seed 1111; run seed 1112).');
    expect(page).toContain('Missing-rate curve (missing-curve.json): not recorded (run seed 1111; run seed 1112).');
    expect(page.match(/<td class="not-recorded">not recorded<\/td>/g)!.length).toBe(2 * 3);
  });

  test('true_missing empty (real data): no detection figure, said so', async () => {
    const { out, page, fd } = await report([{ o: { truth: false } }]);
    expect(fd.dmfd_scores.length).toBeGreaterThan(0);
    expect(fd.dmfd_detection).toEqual([]);
    expect(existsSync(join(out, 'fig4b-dmfd-detection.svg'))).toBe(false);
    expect(existsSync(join(out, 'fig4-dmfd-scores.svg'))).toBe(true);
    expect(page).toContain('Detection precision and recall: not recorded (the true_missing columns are empty');
  });

  test('thresholds recorded as the score statistics ({ mean, std }) are drawn as the mean', async () => {
    const { out, fd } = await report([{ o: { thresholds: 'stats' } }]);
    expect(fd.dmfd_thresholds.find((t) => t.condition === 'LVA' && t.score === 'F_v')).toMatchObject({ mean: 0.7, std: 0.3 });
    expect(readFileSync(join(out, 'fig4-dmfd-scores.svg'), 'utf8')).toContain('score mean (μ)');
  });

  test('an interrupted run (no results) and an old run (no history): the rest still reported', async () => {
    const { out, page, fd } = await report([{ o: { results: false, history: false } }]);
    expect(fd.test_metrics).toEqual([]);
    expect(fd.training.steps).toEqual([]);
    expect(page).toContain('Test results: not recorded (run).');
    expect(page).toContain('Training history: not recorded');
    expect(readdirSync(out).filter((f) => f.endsWith('.svg')).sort()).toEqual(['fig4-dmfd-scores.svg', 'fig4b-dmfd-detection.svg', 'fig5-missing-curve.svg']);
  });

  test('an unreadable optional file is named, and the report is still written', async () => {
    const d = join(tmp, 'broken', 'run');
    writeRunFixture(d);
    writeFileSync(join(d, 'seed-1112', 'missing-curve.json'), '{ "rates": [0, 0.1], "metrics": { "MAE": [1] } }');
    const r = await writeReport([d], join(tmp, 'broken', 'report'));
    const page = readFileSync(r.html, 'utf8');
    expect(page).toContain('not recorded or unreadable (run seed 1112: unreadable (metrics.MAE does not have one value per rate)).');
    expect(r.data.missing_curve.every((p) => p.seed === 1111)).toBe(true);
  });
});

describe('several runs', () => {
  test('side by side, labelled by run folder name', async () => {
    const { out, fd } = await report([{ name: 'smcir' }, { name: 'no-msse', o: { offset: 0.05, curve: false } }]);
    expect(fd.runs.map((r) => r.name)).toEqual(['smcir', 'no-msse']);
    for (const part of [fd.training.steps, fd.training.epochs, fd.test_metrics, fd.dmfd_flagged]) expect(new Set(part.map((x) => x.run))).toEqual(new Set(['smcir', 'no-msse']));
    expect(readdirSync(out).filter((f) => f.endsWith('.svg')).sort()).toEqual(
      ['fig1-training', 'fig2-test-metrics', 'fig3-dmfd-flagged', 'fig4-dmfd-scores-no-msse', 'fig4-dmfd-scores-smcir', 'fig4b-dmfd-detection-no-msse', 'fig4b-dmfd-detection-smcir', 'fig5-missing-curve-smcir'].map((f) => `${f}.svg`),
    );
    for (const f of ['fig1-training', 'fig2-test-metrics', 'fig3-dmfd-flagged']) {
      const svg = readFileSync(join(out, `${f}.svg`), 'utf8');
      expect(svg, f).toContain('>smcir<');
      expect(svg, f).toContain('>no-msse<');
    }
  });

  test('run.json: nested fields on which the runs differ are in the main table, highlighted', async () => {
    const { page } = await report([
      { name: 'smcir', o: { extra: { constants: { eta: 0.6, use_msse: true } } } },
      { name: 'no-msse', o: { extra: { constants: { eta: 0.6, use_msse: false } } } },
    ]);
    const main = /<table class="fields" id="run-json">[\s\S]*?<\/table>/.exec(page)![0];
    expect(main).toContain('<tr class="differs"><th scope="row"><code>constants.use_msse</code></th><td>true</td><td>false</td></tr>');
    expect(main).not.toContain('constants.eta');
    expect(page).toContain('<code>constants.eta</code></th><td>0.6</td><td>0.6</td>');
  });

  test('two folders of the same name are told apart by their parent', async () => {
    for (const p of ['a', 'b']) writeRunFixture(join(tmp, 'same', p, 'run'));
    const r = await writeReport([join(tmp, 'same', 'a', 'run'), join(tmp, 'same', 'b', 'run')], join(tmp, 'same', 'report'));
    expect(r.data.runs.map((x) => x.name)).toEqual(['a/run', 'b/run']);
  });
});

describe('not a run', () => {
  test('a folder without run.json: SMC5016; a damaged run.json: SMC5015', () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(() => readRun(empty)).toThrow(ReportError);
    expect(() => readRun(empty)).toThrow(/is not a run folder \(no run\.json\)/);
    try {
      readRun(empty);
    } catch (e) {
      expect((e as ReportError).code).toBe('SMC5016');
    }
    writeFileSync(join(empty, 'run.json'), '{ "spec": 3 }');
    expect(() => readRun(empty)).toThrow(expect.objectContaining({ code: 'SMC5015' }));
  });
});

describe('helpers', () => {
  test('parseCsv: quotes, empty cells as null, numbers as numbers', () => {
    expect(parseCsv('id,x,y\n"a,b",1.5,\nc,NaN,2\n')).toEqual({ columns: ['id', 'x', 'y'], rows: [['a,b', 1.5, null], ['c', NaN, 2]] });
  });

  test('thin keeps every k-th point and the last of each series', () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ s: 'a', i }));
    expect(thin(rows, (r) => r.s, 4)).toEqual({ rows: [0, 3, 6, 9].map((i) => ({ s: 'a', i })), every: 3 });
    expect(thin(rows, (r) => r.s, 100).every).toBe(1);
  });

  test('prefixIds makes the ids of two SVGs distinct, references included', () => {
    const svg = '<svg><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"/><use href="#clip1"/></svg>';
    expect(prefixIds(svg, 'fig2')).toBe('<svg><defs><clipPath id="fig2-clip1"><rect/></clipPath></defs><g clip-path="url(#fig2-clip1)"/><use href="#fig2-clip1"/></svg>');
  });
});
