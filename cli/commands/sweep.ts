// `smcirc sweep`: specs × data × --grid axes × seeds as one run folder per cell under --out, run by a local pool of
// `smcirc train` processes, by `--worker` processes anywhere that sees the folder, or as a Slurm job array (--slurm).
// Reruns skip finished cells, resume interrupted ones and retry failed ones once; sweep.json pins the grid.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { checkSpec } from '../../compiler/check/index.js';
import { resolveBackend, type BackendChoice } from '../../runtime/backends/index.js';
import { cellState, type CellState } from '../../runtime/sweep/claim.js';
import { GridError, parseAxis, type Axis, type SweepGrid } from '../../runtime/sweep/grid.js';
import { createOrCheckSweep, readRetry, readSweep, writeRetry, type SweepManifest } from '../../runtime/sweep/manifest.js';
import { submit, waitForJob, writeJobScript } from '../../runtime/sweep/slurm.js';
import { ERROR_FILE, runWorker, type WorkerResult } from '../../runtime/sweep/worker.js';
import { displayPath, printDiagnostics } from '../diagnostics-output.js';
import { UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { parseSeeds } from '../seeds.js';

export interface SweepCommandOptions {
  out?: string;
  worker?: string;
  seeds?: string;
  data: string[];
  set: string[];
  grid: string[];
  jobs?: number;
  backend: BackendChoice;
  maxEpochs?: number;
  maxSteps?: number;
  plan?: boolean;
  slurm?: boolean;
  sbatchArg: string[];
  submit?: boolean;
  wait?: boolean;
}

const smcircCommand = (): string[] => [process.execPath, join(packageRoot(), 'bin', 'smcirc.js')];

const usage = <T>(f: () => T): T => {
  try {
    return f();
  } catch (e) {
    if (e instanceof GridError) throw new UsageError(e.message, e.hint);
    throw e;
  }
};

/** Checks every spec with the --set overrides and each value of each axis (one axis varied at a time); returns the
 *  first spec's train.seeds, or undefined after printing diagnostics. */
function checkSpecs(specs: string[], set: string[], axes: Axis[]): number[] | undefined {
  let seeds: number[] | undefined;
  const points: string[][] = [axes.map((a) => `${a.key}=${a.values[0]}`)];
  axes.forEach((a, i) => a.values.slice(1).forEach((v) => points.push(points[0]!.map((p, j) => (j === i ? `${a.key}=${v}` : p)))));
  for (const spec of specs) {
    for (const point of points) {
      const r = checkSpec(spec, { overrides: [...set, ...point] });
      if (!r.ok) {
        printDiagnostics(r.diagnostics, r.program.sources);
        process.stderr.write(`(checking ${spec}${point.length ? ` with ${point.join(' ')}` : ''})\n`);
        return undefined;
      }
      seeds ??= r.settings?.train.seeds;
    }
  }
  return seeds ?? [1111];
}

function states(root: string, m: SweepManifest): Map<string, CellState> {
  return new Map(m.cells.map((c) => [c.id, cellState(root, c)]));
}

function describe(m: SweepManifest, st: Map<string, CellState>, retrying: boolean): string {
  const n = (f: (s: CellState) => boolean) => [...st.values()].filter(f).length;
  const g = m.grid;
  const points = g.axes.reduce((a, x) => a * x.values.length, 1);
  const shape = [`${g.specs.length} spec${g.specs.length === 1 ? '' : 's'}`, ...(g.data.length > 1 ? [`${g.data.length} data`] : []), ...(points > 1 ? [`${points} grid points`] : []), `${g.seeds.length} seed${g.seeds.length === 1 ? '' : 's'}`];
  const parts = [
    [n((s) => s.kind === 'finished'), 'finished'],
    [n((s) => s.kind === 'ended' && s.last.end?.status === 'failed'), retrying ? 'failed before (retried once now)' : 'failed'],
    [n((s) => s.kind === 'stale' || (s.kind === 'ended' && s.last.end?.status !== 'failed')), 'interrupted (continued)'],
    [n((s) => s.kind === 'held'), 'running elsewhere'],
    [n((s) => s.kind === 'free'), 'to run'],
  ].filter(([k]) => k).map(([k, w]) => `${k} ${w}`);
  return `${m.cells.length} cells (${shape.join(' × ')}): ${parts.join(', ')}`;
}

/** Default pool size: one process per two cores on the CPU interpreter (it is single-threaded; the rest of the
 *  machine stays usable), one on a GPU (runs would only queue on it). */
async function defaultJobs(backend: BackendChoice): Promise<{ jobs: number; why: string }> {
  const resolved = backend === 'auto' ? await resolveBackend('auto', (l) => process.stderr.write(`${l}\n`)) : backend;
  if (resolved === 'gpu') return { jobs: 1, why: 'one GPU: cells would queue on it; --jobs N to change' };
  const cores = availableParallelism();
  return { jobs: Math.max(1, Math.floor(cores / 2)), why: `${cores} cores, one cell per two on the CPU interpreter; --jobs N to change` };
}

/** The summary after a worker: what it ran, what failed (with the error), what is left; the exit code. */
function finish(root: string, m: SweepManifest, r: WorkerResult, write: (s: string) => void): number {
  const st = states(root, m);
  const failed = m.cells.filter((c) => { const s = st.get(c.id)!; return s.kind === 'ended' && s.last.end?.status === 'failed'; });
  const done = [...st.values()].filter((s) => s.kind === 'finished').length;
  const held = [...st.values()].filter((s) => s.kind === 'held').length;
  const ran = r.outcomes.filter((o) => o.status === 'finished').length;
  write(`${root}: ${done} of ${m.cells.length} cells finished (${ran} run now${held ? `, ${held} still running in other workers` : ''})\n`);
  for (const c of failed) {
    const e = (st.get(c.id) as { last: { end?: { error?: string[]; exit?: number | null } } }).last.end;
    write(`FAILED ${c.id} (exit ${e?.exit ?? '?'}):\n${(e?.error ?? []).slice(-6).map((l) => `    ${l}`).join('\n')}\n    full output: ${join(root, c.id, ERROR_FILE)}\n`);
  }
  if (r.signal) return r.signal === 'SIGINT' ? 130 : 143;
  if (done === m.cells.length) write(`table: smcirc table ${displayPath(root)}\n`);
  return failed.length || r.outcomes.some((o) => o.status === 'failed') ? 1 : 0;
}

export async function runSweep(specs: string[], o: SweepCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  if (o.worker) {
    const given = [specs.length && 'specs', o.out && '--out', o.seeds && '--seeds', o.data.length && '--data', o.set.length && '--set', o.grid.length && '--grid', o.slurm && '--slurm'].filter(Boolean);
    if (given.length) throw new UsageError(`--worker takes the sweep folder alone (${given.join(', ')} given)`, 'the grid comes from its sweep.json; only --jobs may be added');
    const root = resolve(o.worker);
    const manifest = usage(() => readSweep(root));
    write(`worker ${process.pid} on ${root}: ${describe(manifest, states(root, manifest), false)}\n`);
    const r = await runWorker({ root, manifest, jobs: o.jobs ?? 1, smcirc: smcircCommand(), retry: readRetry(root) });
    return finish(root, manifest, r, write);
  }
  if (!o.out) throw new UsageError('--out is required', 'the sweep folder, e.g. --out runs/table5 (rerun the same command to continue it)');
  if (!specs.length) throw new UsageError('no spec given', 'e.g. smcirc sweep specs/ablations/table5-*.smcir --seeds 1111-1115 --out runs/table5');
  for (const s of specs) if (!existsSync(s)) throw new UsageError(`${s} does not exist`, 'pass .smcir spec files');
  for (const d of o.data) if (d !== 'synthetic' && !existsSync(d)) throw new UsageError(`--data ${d} does not exist`, 'an MMSA pickle, a converted folder, or `synthetic` for the built-in set');
  if ((o.submit || o.sbatchArg.length) && !o.slurm) throw new UsageError('--submit and --sbatch-arg go with --slurm');
  if (o.wait && !o.submit) throw new UsageError('--wait goes with --slurm --submit');
  const axes = usage(() => o.grid.map(parseAxis));
  const specSeeds = checkSpecs(specs, o.set, axes);
  if (!specSeeds) return 1;
  const grid: SweepGrid = {
    specs: specs.map((s) => resolve(s)),
    data: o.data.length ? o.data.map((d) => (d === 'synthetic' ? d : resolve(d))) : ['synthetic'],
    set: o.set,
    axes,
    seeds: o.seeds ? parseSeeds(o.seeds) : specSeeds,
    backend: o.backend,
    max_epochs: o.maxEpochs ?? null,
    max_steps: o.maxSteps ?? null,
  };
  const root = resolve(o.out);
  const { manifest, created } = usage(() => createOrCheckSweep(root, grid));
  const st = states(root, manifest);
  const retry = Object.fromEntries(manifest.cells.flatMap((c) => { const s = st.get(c.id)!; return s.kind === 'ended' && s.last.end?.status === 'failed' ? [[c.id, s.last.generation]] : []; }));
  writeRetry(root, retry);
  write(`sweep ${root}${created ? '' : ' (continued)'}: ${describe(manifest, st, true)}\n`);
  if (o.plan) {
    for (const c of manifest.cells) write(`  ${st.get(c.id)!.kind.padEnd(8)} ${c.id}\n`);
    return 0;
  }
  const unfinished = manifest.cells.filter((c) => st.get(c.id)!.kind !== 'finished').length;
  if (o.slurm) {
    const script = writeJobScript({ root, tasks: unfinished, concurrency: o.jobs, sbatchArgs: o.sbatchArg, smcirc: smcircCommand(), cwd: process.cwd() });
    write(`job script: ${script} (${unfinished} array task${unfinished === 1 ? '' : 's'}, one worker each)\n`);
    if (!o.submit) {
      write(`submit it with: sbatch ${script}\nthen: smcirc table ${displayPath(root)}\n`);
      return 0;
    }
    if (!unfinished) return 0;
    const s = submit(script);
    if (!s.ok || !s.jobId) {
      process.stderr.write(`error: sbatch failed${s.code !== null ? ` (exit ${s.code})` : ''}: ${s.message}\n`);
      return 1;
    }
    write(`submitted job ${s.jobId}: squeue -j ${s.jobId}; task outputs in ${join(root, 'slurm')}\n`);
    if (!o.wait) return 0;
    if (!(await waitForJob(s.jobId))) {
      process.stderr.write(`error: squeue keeps failing; the job may still run (squeue -j ${s.jobId})\n`);
      return 1;
    }
    write(`job ${s.jobId} has ended\n`);
    const code = finish(root, manifest, { outcomes: [] }, write);
    const left = manifest.cells.filter((c) => cellState(root, c).kind !== 'finished').length;
    if (left) write(`${left} cell${left === 1 ? '' : 's'} not finished: see ${join(root, 'slurm', `${s.jobId}_*.out`)}; rerun this command to submit the rest\n`);
    return code || (left ? 1 : 0);
  }
  const { jobs, why } = o.jobs ? { jobs: o.jobs, why: '--jobs' } : await defaultJobs(o.backend);
  const n = Math.min(jobs, Math.max(1, unfinished));
  write(`${n} worker process${n === 1 ? '' : 'es'} (${why}); log: ${join(root, 'sweep.log')}\n`);
  const r = await runWorker({ root, manifest, jobs, smcirc: smcircCommand(), retry: new Map(Object.entries(retry)) });
  return finish(root, manifest, r, write);
}
