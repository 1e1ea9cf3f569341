// The report's figures as Vega-Lite specs, built from the figure data: training curves, test metrics, DMFD flag
// rates (the paper's Fig. 3), DMFD score histograms with thresholds and detection quality, missing-rate curves.

import { MODALITIES, meanStd, scoreModality, type FigureData } from './figure-data.js';

/** A Vega-Lite spec (plain JSON; compiled by render.ts). */
export type VlSpec = Record<string, unknown>;

export interface Figure {
  /** Stable id: the SVG's file name without `.svg`, and the figure's element id in report.html. */
  id: string;
  /** Which part of the figure data it draws (a key of FigureData). */
  data: string[];
  run?: string;
  title: string;
  caption: string;
  spec: VlSpec;
}

const MAX_POINTS = 1500;
const PERCENT = new Set(['Has0_acc_2', 'Has0_F1_score', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7']);
export const FIGURE_METRICS = ['Has0_acc_2', 'Has0_F1_score', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7', 'MAE', 'Corr'];
const MODALITY_COLORS = { domain: [...MODALITIES], range: ['#4c78a8', '#f58518', '#54a24b'] };

/** The paper prints accuracies and F1 ×100, MAE and Corr as they are. */
export const metricScale = (m: string): number => (PERCENT.has(m) ? 100 : 1);
const metricLabel = (m: string) => (metricScale(m) === 100 ? `${m} (×100)` : m);

/** Keeps at most `max` points per series (every k-th, and the last), for plots of long runs. */
export function thin<T>(rows: T[], key: (r: T) => string, max = MAX_POINTS): { rows: T[]; every: number } {
  const groups = new Map<string, T[]>();
  for (const r of rows) (groups.get(key(r)) ?? groups.set(key(r), []).get(key(r))!).push(r);
  const every = Math.max(1, ...[...groups.values()].map((g) => Math.ceil(g.length / max)));
  if (every === 1) return { rows, every };
  return { rows: [...groups.values()].flatMap((g) => g.filter((_, i) => i % every === 0 || i === g.length - 1)), every };
}

/** Color by seed for one run; by run (in the order given; dashes by seed) for several. */
function seriesEncoding(fd: FigureData): VlSpec {
  const legend = { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 250 };
  return fd.runs.length > 1
    ? {
        color: { field: 'run', type: 'nominal', title: 'run', sort: fd.runs.map((r) => r.name), legend },
        // explicit symbol colours: the layered points would otherwise leave the dash samples without a stroke
        strokeDash: { field: 'seed_label', type: 'nominal', title: 'seed', legend: { ...legend, encode: { symbols: { update: { stroke: { value: '#444' }, fill: { value: 'transparent' } } } } } },
      }
    : { color: { field: 'seed_label', type: 'nominal', title: 'seed', legend } };
}

const errorRule = (x: VlSpec, offset?: VlSpec): VlSpec => ({
  mark: { type: 'rule', color: '#222', strokeWidth: 1.2 },
  encoding: { ...x, ...(offset ? { xOffset: offset } : {}), y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
});

export function trainingFigure(fd: FigureData): Figure {
  const several = fd.runs.length > 1;
  const label = <T extends { seed: number }>(r: T) => ({ ...r, seed_label: `seed ${r.seed}` });
  const steps = thin(fd.training.steps.filter((s) => s.loss !== null).map(label), (s) => `${s.run}/${s.seed}`);
  const epochs = fd.training.epochs.filter((e) => e.valid_l1 !== null).map(label);
  const enc = seriesEncoding(fd);
  return {
    id: 'fig1-training',
    data: ['training'],
    title: 'Training loss and validation L1',
    caption:
      `Left: the training loss of every step${steps.every > 1 ? ` (every ${steps.every}th step shown)` : ''}; right: validation L1 after each epoch ` +
      `(circled: the best epoch, whose weights were tested). ${several ? 'Colour: run; dashes: seed.' : 'One line per seed.'}`,
    spec: {
      hconcat: [
        {
          title: 'training loss per step',
          width: 430,
          height: 250,
          data: { values: steps.rows },
          mark: { type: 'line', strokeWidth: 1.2, clip: true },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'step' },
            y: { field: 'loss', type: 'quantitative', title: 'training loss', scale: { zero: false } },
            ...enc,
            detail: { field: 'seed', type: 'nominal' },
          },
        },
        {
          title: 'validation L1 per epoch',
          width: 300,
          height: 250,
          data: { values: epochs },
          encoding: {
            x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
            y: { field: 'valid_l1', type: 'quantitative', title: 'validation L1', scale: { zero: false } },
            ...enc,
            detail: { field: 'seed', type: 'nominal' },
          },
          layer: [
            { mark: { type: 'line', point: { size: 24 }, strokeWidth: 1.5 } },
            { transform: [{ filter: 'datum.kept' }], mark: { type: 'point', size: 160, strokeWidth: 2, filled: false } },
          ],
        },
      ],
      resolve: { scale: { color: 'shared', strokeDash: 'shared' } },
    },
  };
}

export function testMetricsFigure(fd: FigureData, conditions: string[]): Figure {
  const several = fd.runs.length > 1;
  const rows = fd.test_metrics
    .filter((m) => FIGURE_METRICS.includes(m.metric))
    .map((m) => {
      const k = metricScale(m.metric);
      return { ...m, panel: metricLabel(m.metric), y: m.mean * k, lo: (m.mean - m.std) * k, hi: (m.mean + m.std) * k };
    });
  const x = { x: { field: 'condition', type: 'nominal', sort: conditions, title: 'test condition', axis: { labelAngle: 0 } } };
  const offset = several ? { field: 'run', type: 'nominal', sort: fd.runs.map((r) => r.name) } : undefined;
  return {
    id: 'fig2-test-metrics',
    data: ['test_metrics'],
    title: 'Test metrics per condition',
    caption: `Mean over seeds with ± one standard deviation (population, as results.json) as error bars; accuracies and F1 ×100 as the paper prints them.${several ? ' Colour: run.' : ''}`,
    spec: {
      data: { values: rows },
      facet: { field: 'panel', type: 'nominal', title: null, sort: FIGURE_METRICS.map(metricLabel) },
      columns: 4,
      spec: {
        width: Math.max(170, 24 * conditions.length * fd.runs.length),
        height: 140,
        layer: [
          {
            mark: { type: 'bar', opacity: 0.85 },
            encoding: {
              ...x,
              ...(offset ? { xOffset: offset, color: { field: 'run', type: 'nominal', title: 'run', sort: fd.runs.map((r) => r.name) } } : { color: { value: '#4c78a8' } }),
              y: { field: 'y', type: 'quantitative', title: null },
            },
          },
          errorRule(x, offset),
        ],
      },
      resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
    },
  };
}

export function flaggedFigure(fd: FigureData, conditions: string[]): Figure {
  const rows = fd.dmfd_flagged.map((f) => ({ ...f, lo: Math.max(0, f.mean - f.std), hi: Math.min(1, f.mean + f.std) }));
  const x = { x: { field: 'condition', type: 'nominal', sort: conditions, title: 'test condition', axis: { labelAngle: 0 } } };
  const offset = { field: 'modality', type: 'nominal', sort: [...MODALITIES] };
  const layer = {
    width: 70 * conditions.length,
    height: 200,
    layer: [
      {
        mark: { type: 'bar', opacity: 0.9 },
        encoding: {
          ...x,
          xOffset: offset,
          color: { field: 'modality', type: 'nominal', title: 'flagged missing', scale: MODALITY_COLORS, sort: [...MODALITIES] },
          y: { field: 'mean', type: 'quantitative', title: 'samples flagged', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
        },
      },
      errorRule(x, offset),
    ],
  };
  return {
    id: 'fig3-dmfd-flagged',
    data: ['dmfd_flagged'],
    title: 'DMFD flagged rate per condition and modality',
    caption: 'Fraction of test samples DMFD flagged as missing vision, audio, or both (the paper’s Fig. 3): mean over seeds, ± one std.',
    spec:
      fd.runs.length > 1
        ? { data: { values: rows }, facet: { column: { field: 'run', type: 'nominal', title: null, sort: fd.runs.map((r) => r.name) } }, spec: layer }
        : { data: { values: rows }, ...layer },
  };
}

const DECISIONS = ['present', 'flagged', 'no state'] as const;
const DECISION_COLORS: Record<string, string> = { present: '#9ecae9', flagged: '#e45756', 'no state': '#bab0ac' };

/** Histogram bins per (score, condition) over all seeds, split by DMFD's decision; the range includes the rules. */
function scoreBins(fd: FigureData, run: string, bins = 24) {
  const out: VlSpec[] = [];
  const cells = new Map<string, { score: string; condition: string; modality: string; values: number[]; states: (number | null)[] }>();
  for (const s of fd.dmfd_scores.filter((s) => s.run === run)) {
    const k = `${s.score}\u0000${s.condition}`;
    const c = cells.get(k) ?? cells.set(k, { score: s.score, condition: s.condition, modality: s.modality, values: [], states: [] }).get(k)!;
    s.values.forEach((v, i) => v !== null && (c.values.push(v), c.states.push(s.states[i] ?? null)));
  }
  for (const c of cells.values()) {
    const rules = fd.dmfd_thresholds.filter((t) => t.run === run && t.score === c.score && t.condition === c.condition).flatMap((t) => (t.threshold ?? t.mean) ?? []);
    const all = [...c.values, ...rules];
    if (all.length === 0) continue;
    let lo = Math.min(...all);
    let hi = Math.max(...all);
    if (hi - lo < 1e-12) (lo -= Math.abs(lo) * 0.05 || 0.5), (hi += Math.abs(hi) * 0.05 || 0.5);
    const w = (hi - lo) / bins;
    const counts = [0, 1, 2].map(() => new Array<number>(bins).fill(0));
    c.values.forEach((v, i) => {
      const b = Math.min(bins - 1, Math.floor((v - lo) / w));
      const st = c.states[i];
      counts[st === null ? 2 : st >= 1 ? 1 : 0]![b]!++;
    });
    const decision = DECISIONS;
    for (let b = 0; b < bins; b++) {
      let y0 = 0;
      for (let d = 0; d < 3; d++) {
        const n = counts[d]![b]!;
        if (n > 0) out.push({ kind: 'bin', score: c.score, modality: c.modality, row: `${c.score} (${c.modality})`, condition: c.condition, x0: lo + b * w, x1: lo + (b + 1) * w, y0, y1: y0 + n, count: n, decision: decision[d] });
        y0 += n;
      }
    }
  }
  return out;
}

export function scoresFigure(fd: FigureData, run: string, conditions: string[], suffix: string): Figure {
  const bins = scoreBins(fd, run);
  const rules = fd.dmfd_thresholds
    .filter((t) => t.run === run)
    .flatMap((t) => {
      const x = t.threshold ?? t.mean;
      return x === undefined ? [] : [{ kind: 'rule', score: t.score, row: `${t.score} (${scoreModality(t.score)})`, condition: t.condition, seed: t.seed, x, rule: t.threshold !== undefined ? 'threshold' : 'score mean (μ)' }];
    });
  const rowsOrder = [...new Set(bins.map((b) => b.row as string))].sort((a, b) => {
    const m = (s: string) => ['vision', 'audio', 'other'].findIndex((k) => s.endsWith(`(${k})`));
    return m(a) - m(b) || a.localeCompare(b);
  });
  const hasMeans = rules.some((r) => r.rule !== 'threshold');
  const decisions = DECISIONS.filter((d) => bins.some((b) => b.decision === d));
  const ruleKinds = ['threshold', 'score mean (μ)'].filter((k) => rules.some((r) => r.rule === k));
  return {
    id: `fig4-dmfd-scores${suffix}`,
    data: ['dmfd_scores', 'dmfd_thresholds'],
    run,
    title: `DMFD scores${suffix ? ` — ${run}` : ''}`,
    caption:
      `Histogram of each DMFD score per test condition (all seeds), stacked by DMFD’s decision (flagged: state ≥ 1); ` +
      `vertical rules: ${hasMeans ? 'the threshold where recorded, else the score’s mean μ over the split (the threshold rule is relative to it)' : 'the threshold'}, one per seed.`,
    spec: {
      data: { values: [...bins, ...rules] },
      facet: {
        row: { field: 'row', type: 'nominal', title: null, sort: rowsOrder, header: { labelFontWeight: 'bold', labelAngle: 0, labelAlign: 'left', labelLimit: 0 } },
        column: { field: 'condition', type: 'nominal', title: 'test condition', sort: conditions },
      },
      spec: {
        width: 170,
        height: 130,
        layer: [
          {
            transform: [{ filter: "datum.kind === 'bin'" }],
            mark: { type: 'bar', binSpacing: 0 },
            encoding: {
              x: { field: 'x0', type: 'quantitative', title: 'score', axis: { tickCount: 4, format: '~g' }, scale: { zero: false, nice: false } },
              x2: { field: 'x1' },
              y: { field: 'y1', type: 'quantitative', title: 'samples', axis: { tickCount: 3 } },
              y2: { field: 'y0' },
              color: { field: 'decision', type: 'nominal', title: 'DMFD', scale: { domain: decisions, range: decisions.map((d) => DECISION_COLORS[d]) } },
            },
          },
          {
            transform: [{ filter: "datum.kind === 'rule'" }],
            mark: { type: 'rule', color: '#111', strokeWidth: 1.5 },
            encoding: { x: { field: 'x', type: 'quantitative' }, strokeDash: { field: 'rule', type: 'nominal', title: 'rule', scale: { domain: ruleKinds, range: ruleKinds.map((k) => (k === 'threshold' ? [1, 0] : [4, 3])) } } },
          },
        ],
      },
      resolve: { scale: { x: 'independent', y: 'independent' } },
    },
  };
}

/** Precision and recall of the flags against the planted missingness: mean ± std over seeds per condition. */
export function detectionRows(fd: FigureData, run: string) {
  const out: { run: string; condition: string; modality: string; measure: string; mean: number; std: number; seeds: number }[] = [];
  const ds = fd.dmfd_detection.filter((d) => d.run === run);
  for (const key of [...new Set(ds.map((d) => `${d.condition}\u0000${d.modality}`))]) {
    const [condition, modality] = key.split('\u0000') as [string, string];
    const sel = ds.filter((d) => d.condition === condition && d.modality === modality);
    for (const measure of ['precision', 'recall'] as const) {
      const xs = sel.map((d) => d[measure]).filter((x) => x !== null);
      if (xs.length > 0) out.push({ run, condition, modality, measure, ...meanStd(xs), seeds: xs.length });
    }
  }
  return out;
}

export function detectionFigure(fd: FigureData, run: string, conditions: string[], suffix: string): Figure {
  const rows = detectionRows(fd, run).map((r) => ({ ...r, lo: Math.max(0, r.mean - r.std), hi: Math.min(1, r.mean + r.std) }));
  const x = { x: { field: 'condition', type: 'nominal', sort: conditions, title: 'test condition', axis: { labelAngle: 0 } } };
  const offset = { field: 'measure', type: 'nominal', sort: ['precision', 'recall'] };
  return {
    id: `fig4b-dmfd-detection${suffix}`,
    data: ['dmfd_detection'],
    run,
    title: `DMFD detection of the planted missingness${suffix ? ` — ${run}` : ''}`,
    caption: 'Precision and recall of DMFD’s flags (state ≥ 1) against the missingness planted in the synthetic data (true_missing), computed from dmfd-scores.csv; mean over seeds ± one std. A bar is absent where it is undefined (no sample flagged, or none missing).',
    spec: {
      data: { values: rows },
      facet: { column: { field: 'modality', type: 'nominal', title: null, sort: ['vision', 'audio'] } },
      spec: {
        width: 60 * conditions.length,
        height: 170,
        layer: [
          {
            mark: { type: 'bar', opacity: 0.9 },
            encoding: {
              ...x,
              xOffset: offset,
              color: { field: 'measure', type: 'nominal', title: null, scale: { domain: ['precision', 'recall'], range: ['#72b7b2', '#b279a2'] } },
              y: { field: 'mean', type: 'quantitative', title: 'precision / recall', scale: { domain: [0, 1] } },
            },
          },
          errorRule(x, offset),
        ],
      },
    },
  };
}

export function missingCurveFigure(fd: FigureData, run: string, suffix: string): Figure {
  const pts = fd.missing_curve.filter((p) => p.run === run && p.value !== null);
  const metrics = [...new Set(pts.map((p) => p.metric))].sort((a, b) => {
    const i = (m: string) => (FIGURE_METRICS.includes(m) ? FIGURE_METRICS.indexOf(m) : 99);
    return i(a) - i(b) || a.localeCompare(b);
  });
  const auilc = (seed: number, metric: string) => fd.auilc.find((a) => a.run === run && a.seed === seed && a.metric === metric)?.auilc;
  const panels = metrics.map((metric) => ({
    title: metric,
    width: 190,
    height: 130,
    data: {
      values: pts
        .filter((p) => p.metric === metric)
        .map((p) => {
          const a = auilc(p.seed, metric);
          return { ...p, series: `seed ${p.seed}${a !== undefined ? ` · AUILC ${a.toFixed(4)}` : ''}` };
        }),
    },
    mark: { type: 'line', point: { size: 20 } },
    encoding: {
      x: { field: 'rate', type: 'quantitative', title: 'missing rate', axis: { format: '.0%', tickCount: 5 } },
      y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 240 } },
    },
  }));
  return {
    id: `fig5-missing-curve${suffix}`,
    data: ['missing_curve', 'auilc'],
    run,
    title: `Metrics vs missing rate${suffix ? ` — ${run}` : ''}`,
    caption: 'Each test metric as the missing rate grows (missing-curve.json), one line per seed; the legend gives the area under the curve (AUILC) as recorded.',
    spec: { concat: panels, columns: 4, resolve: { scale: { color: 'independent' } } },
  };
}
