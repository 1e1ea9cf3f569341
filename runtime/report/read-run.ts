// Reads what a report shows from a run folder written by `smcirc train`: run.json as recorded, results.json, and per
// seed the training history CSVs and the optional DMFD and missing-rate files (absent ones are "not recorded").

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { readRunManifest } from '../train/run.js';

/** A coded failure of `smcirc report` (printed as `error SMCxxxx: …`, exit 1). */
export class ReportError extends Error {
  constructor(
    readonly code: 'SMC5016',
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export const METRICS = ['Has0_acc_2', 'Has0_F1_score', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7', 'MAE', 'Corr'] as const;
export type Metric = (typeof METRICS)[number];

export interface ConditionRecord {
  condition: string;
  metrics: Record<string, number>;
  flagged?: { vision?: number; audio?: number; both?: number };
}
export interface SeedResults {
  seed: number;
  conditions: ConditionRecord[];
}

/** A CSV file: its header and rows of cells (numbers where a cell parses as one; '' is null). */
export interface Table {
  columns: string[];
  rows: (number | string | null)[][];
}

/** One entry per score of dmfd-thresholds.json: a threshold, or the statistics it is computed from. */
export interface ThresholdRecord {
  threshold?: number;
  mean?: number;
  std?: number;
}

export interface MissingCurve {
  rates: number[];
  metrics: Record<string, number[]>;
  auilc: Record<string, number>;
}

/** An optional file: its content, or why there is none (`not recorded`: absent). */
export type Optional<T> = { value: T } | { absent: 'not recorded' | string };

export interface SeedRecord {
  seed: number;
  steps: Optional<Table>;
  epochs: Optional<Table>;
  best?: { epoch?: number; valid_l1?: number };
  dmfdScores: Optional<Table>;
  dmfdThresholds: Optional<Record<string, Record<string, ThresholdRecord>>>;
  missingCurve: Optional<MissingCurve>;
}

export interface RunRecord {
  dir: string;
  /** The run folder's name: the label of the run in figures and tables. */
  name: string;
  /** run.json as recorded (every field, whatever the version that wrote it). */
  manifest: Record<string, unknown>;
  seeds: SeedRecord[];
  /** Test results per seed (results.json, else each seed's results.json); empty: not recorded. */
  results: SeedResults[];
  /** results.json's mean ± std per condition and metric, when it has them. */
  meanStd?: Record<string, Record<string, { mean: number; std: number }>>;
}

export const STEP_FILE = 'history-steps.csv';
export const EPOCH_FILE = 'history-epochs.csv';
export const DMFD_SCORES_FILE = 'dmfd-scores.csv';
export const DMFD_THRESHOLDS_FILE = 'dmfd-thresholds.json';
export const MISSING_CURVE_FILE = 'missing-curve.json';

/** Splits CSV text (RFC 4180 quotes allowed) into a header and rows; numeric cells become numbers. */
export function parseCsv(text: string): Table {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      if (row.length > 1 || row[0] !== '') records.push(row);
      (row = []), (cell = '');
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) records.push([...row, cell]);
  const [columns = [], ...rest] = records;
  const value = (s: string): number | string | null => {
    if (s.trim() === '') return null;
    const n = Number(s);
    return Number.isNaN(n) && s.trim() !== 'NaN' ? s : n;
  };
  return { columns, rows: rest.filter((r) => r.length === columns.length).map((r) => r.map(value)) };
}

/** The numbers of one column (null for empty, text or non-finite cells). */
export function column(t: Table, name: string): (number | null)[] {
  const i = t.columns.indexOf(name);
  return t.rows.map((r) => {
    const v = i < 0 ? null : r[i];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  });
}

function readOptional<T>(path: string, parse: (text: string) => T): Optional<T> {
  if (!existsSync(path)) return { absent: 'not recorded' };
  try {
    return { value: parse(readFileSync(path, 'utf8')) };
  } catch (e) {
    return { absent: `unreadable (${(e as Error).message})` };
  }
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function parseThresholds(text: string): Record<string, Record<string, ThresholdRecord>> {
  const j: unknown = JSON.parse(text);
  if (!isRecord(j)) throw new Error('not an object of conditions');
  const out: Record<string, Record<string, ThresholdRecord>> = {};
  for (const [cond, scores] of Object.entries(j)) {
    if (!isRecord(scores)) continue;
    out[cond] = {};
    for (const [name, t] of Object.entries(scores)) {
      if (finite(t)) out[cond]![name] = { threshold: t };
      else if (isRecord(t)) {
        const r: ThresholdRecord = {};
        for (const k of ['threshold', 'mean', 'std'] as const) if (finite(t[k])) r[k] = t[k];
        out[cond]![name] = r;
      }
    }
  }
  return out;
}

function parseMissingCurve(text: string): MissingCurve {
  const j: unknown = JSON.parse(text);
  if (!isRecord(j) || !Array.isArray(j.rates) || !j.rates.every(finite) || !isRecord(j.metrics)) throw new Error('expected { rates: number[], metrics: { <metric>: number[] } }');
  const metrics: Record<string, number[]> = {};
  for (const [m, v] of Object.entries(j.metrics)) {
    if (!Array.isArray(v) || v.length !== j.rates.length) throw new Error(`metrics.${m} does not have one value per rate`);
    metrics[m] = v.map((x) => (finite(x) ? x : NaN));
  }
  const auilc: Record<string, number> = {};
  if (isRecord(j.auilc)) for (const [m, v] of Object.entries(j.auilc)) if (finite(v)) auilc[m] = v;
  return { rates: j.rates as number[], metrics, auilc };
}

function conditionsOf(x: unknown): ConditionRecord[] {
  if (!Array.isArray(x)) return [];
  return x.filter((c): c is ConditionRecord => isRecord(c) && typeof c.condition === 'string' && isRecord(c.metrics));
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Reads a run folder. Throws ReportError SMC5016 for a folder without run.json (SMC5015 when it is damaged). */
export function readRun(dir: string): RunRecord {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory() || !existsSync(join(abs, 'run.json'))) {
    throw new ReportError('SMC5016', `${dir} is not a run folder (no run.json)`, 'pass a folder that `smcirc train` wrote (it prints "run folder: …")');
  }
  const checked = readRunManifest(abs)!; // throws SMC5015 when damaged
  const manifest = JSON.parse(readFileSync(join(abs, 'run.json'), 'utf8')) as Record<string, unknown>;
  const top = readJson(join(abs, 'results.json'));
  const results: SeedResults[] = [];
  if (isRecord(top) && Array.isArray(top.seeds)) {
    for (const s of top.seeds) if (isRecord(s) && finite(s.seed)) results.push({ seed: s.seed, conditions: conditionsOf(s.conditions) });
  }
  const seeds: SeedRecord[] = checked.seeds.map((seed) => {
    const sd = join(abs, `seed-${seed}`);
    const own = readJson(join(sd, 'results.json'));
    if (isRecord(own) && !results.some((r) => r.seed === seed)) results.push({ seed, conditions: conditionsOf(own.conditions) });
    return {
      seed,
      steps: readOptional(join(sd, STEP_FILE), parseCsv),
      epochs: readOptional(join(sd, EPOCH_FILE), parseCsv),
      best: isRecord(own) ? { epoch: finite(own.best_epoch) ? own.best_epoch : undefined, valid_l1: finite(own.best_valid_l1) ? own.best_valid_l1 : undefined } : undefined,
      dmfdScores: readOptional(join(sd, DMFD_SCORES_FILE), parseCsv),
      dmfdThresholds: readOptional(join(sd, DMFD_THRESHOLDS_FILE), parseThresholds),
      missingCurve: readOptional(join(sd, MISSING_CURVE_FILE), parseMissingCurve),
    };
  });
  results.sort((a, b) => checked.seeds.indexOf(a.seed) - checked.seeds.indexOf(b.seed));
  const meanStd = isRecord(top) && isRecord(top.mean_std) ? (top.mean_std as RunRecord['meanStd']) : undefined;
  return { dir: abs, name: basename(abs), manifest, seeds, results: results.filter((r) => r.conditions.length > 0), meanStd };
}

/** Run labels for figures: folder names, made unique by their parent folder where two are alike. */
export function labelRuns(runs: RunRecord[]): void {
  const dup = new Set(runs.filter((r, i) => runs.findIndex((x) => x.name === r.name) !== i).map((r) => r.name));
  for (const r of runs) if (dup.has(r.name)) r.name = `${basename(join(r.dir, '..'))}/${r.name}`;
  const seen = new Map<string, number>();
  for (const r of runs) {
    const k = (seen.get(r.name) ?? 0) + 1;
    seen.set(r.name, k);
    if (k > 1) r.name = `${r.name} (${k})`;
  }
}
