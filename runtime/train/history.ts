// Training history a plotting tool can read: per seed, one CSV row per train step and one per epoch, appended as
// training goes (a killed run keeps every finished row); a resumed run first drops the rows after its checkpoint.

import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_NAMES } from '../eval/conditions.js';

export const STEP_HISTORY = 'history-steps.csv';
export const EPOCH_HISTORY = 'history-epochs.csv';

export const STEP_COLUMNS = ['epoch', 'step', 'loss', 'grad_norm', 'lr', 'samples_per_s'] as const;
export const EPOCH_COLUMNS = ['epoch', 'step', 'train_loss', 'valid_l1', ...METRIC_NAMES.map((m) => `valid_${m}`), 'flag_v', 'flag_a', 'best', 'seconds', 'samples_per_s'] as const;

type Row<C extends readonly string[]> = Record<C[number], number | string>;

/** One CSV file with a fixed header; rows appended one line at a time. */
class CsvLog<C extends readonly string[]> {
  constructor(
    readonly path: string,
    private readonly columns: C,
  ) {}

  /** Starts the file, or (resuming) keeps the rows for which `keep` holds and drops the rest. */
  open(resume: boolean, keep: (row: Record<string, string>) => boolean): void {
    const header = this.columns.join(',');
    if (!resume || !existsSync(this.path)) {
      writeFileSync(this.path, `${header}\n`);
      return;
    }
    const [head, ...lines] = readFileSync(this.path, 'utf8').split('\n').filter((l) => l.length > 0);
    const cols = (head ?? header).split(',');
    const kept = lines.filter((l) => {
      const cells = l.split(',');
      return cells.length === cols.length && keep(Object.fromEntries(cols.map((c, i) => [c, cells[i]!])));
    });
    writeFileSync(this.path, [header, ...kept].join('\n') + '\n');
  }

  append(row: Row<C>): void {
    appendFileSync(this.path, `${this.columns.map((c) => fmt(row[c as C[number]])).join(',')}\n`);
  }
}

const fmt = (v: number | string): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : Number.isFinite(v) ? String(Number(v.toPrecision(7))) : String(v)) : v);

export class TrainingHistory {
  readonly steps: CsvLog<typeof STEP_COLUMNS>;
  readonly epochs: CsvLog<typeof EPOCH_COLUMNS>;

  /** `resumeAt`: the step and epoch of the checkpoint a resumed run continues from. */
  constructor(seedDir: string, resumeAt?: { step: number; epoch: number }) {
    this.steps = new CsvLog(join(seedDir, STEP_HISTORY), STEP_COLUMNS);
    this.epochs = new CsvLog(join(seedDir, EPOCH_HISTORY), EPOCH_COLUMNS);
    this.steps.open(!!resumeAt, (r) => Number(r.step) <= resumeAt!.step);
    this.epochs.open(!!resumeAt, (r) => Number(r.epoch) <= resumeAt!.epoch);
  }
}
