// `checkSpec`: the front half of the compiler — load, apply --set overrides, check what overrides do to the
// constants they replace, resolve settings, elaborate and shape-check into a tensor graph — returning
// diagnostics instead of throwing.

import { resolve } from 'node:path';
import { diag, type Diagnostic } from '../../grammar/diagnostics.js';
import { numel, type Graph } from '../ir/graph.js';
import { Elaborator, type Elaborated, type ElaborateOptions } from './elaborate.js';
import { LIMITS } from './limits.js';
import { loadProgram, readSpecFile, type Program, type ReadFile, type ReadRefusal } from './load.js';
import { checkOverrides } from './overrides.js';
import { applySetOverrides, SET_FILE } from './set-overrides.js';
import { resolveSettings, type Settings } from './settings.js';
import { globToRegExp } from '../train-step.js';

export interface CheckOptions {
  /** `name=value` (a constant) or `section.key=value` (a setting). */
  overrides?: string[];
  /** Batch size to build for; default: the `train` section's batch_size. */
  batch?: number;
  training?: boolean;
  withLoss?: boolean;
  dmfdStats?: ElaborateOptions['dmfdStats'];
  /** Spec text to use instead of reading the entry file (tests, fuzzing). */
  text?: string;
  readFile?: ReadFile;
  /** Let imports leave the project (default: the environment variable SMCIRC_ALLOW_IMPORT_OUTSIDE=1). */
  allowImportOutside?: boolean;
}

export interface ParamSummary {
  instance: string;
  block: string;
  trainable: number;
  frozen: number;
}

export interface CheckResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  program: Program;
  settings?: Settings;
  elaborated?: Elaborated;
  graph?: Graph;
}

/** Reads a spec file: regular files of at most LIMITS.specBytes only (see load.ts). */
export function defaultReadFile(path: string): string | undefined | ReadRefusal {
  return readSpecFile(path);
}

/** Loads, overrides, resolves settings and elaborates a spec. Never throws on bad input. */
export function checkSpec(path: string, opts: CheckOptions = {}): CheckResult {
  let r: CheckResult;
  try {
    r = checkSpecUnbounded(path, opts);
  } catch (e) {
    // A backstop: every recursion is bounded by LIMITS, but a stack overflow must still never become an internal error.
    if (!isStackOverflow(e)) throw e;
    const span = { file: resolve(path), line: 1, column: 1 };
    const program = loadProgram(path, () => '', '').program;
    return { ok: false, diagnostics: [diag('SMC1006', 'the spec nests too deeply for the checker (constants, blocks or expressions inside each other)', span, 'flatten it: fewer constants defined through other constants, shallower expressions')], program };
  }
  return { ...r, diagnostics: capDiagnostics(r.diagnostics) };
}

/** RangeError: Maximum call stack size exceeded. */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** The first LIMITS.diagnostics diagnostics, plus one that counts the rest (SMC1007). */
function capDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  if (ds.length <= LIMITS.diagnostics) return ds;
  const rest = ds.slice(LIMITS.diagnostics);
  const errors = rest.filter((d) => d.severity === 'error').length;
  const last = ds[LIMITS.diagnostics - 1]!;
  return [
    ...ds.slice(0, LIMITS.diagnostics),
    diag('SMC1007', `${rest.length.toLocaleString('en-US')} more diagnostic${rest.length === 1 ? '' : 's'} (${errors.toLocaleString('en-US')} error${errors === 1 ? '' : 's'}) not shown`, last.span ? { file: last.span.file, line: last.span.line, column: last.span.column } : undefined, 'fix the first ones and check again; is this file a .smcir spec?', errors ? 'error' : 'warning'),
  ];
}

function checkSpecUnbounded(path: string, opts: CheckOptions): CheckResult {
  const { program, diagnostics } = loadProgram(path, opts.readFile ?? defaultReadFile, opts.text, { allowImportOutside: opts.allowImportOutside });
  const setText = applySetOverrides(program, opts.overrides ?? [], diagnostics);
  // `<--set>` is no file: its diagnostics carry the text of the --set options for the caret.
  const located = (ds: Diagnostic[]) => ds.map((d) => (d.span?.file === SET_FILE ? { ...d, sourceText: setText } : d));
  if (diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics: located(diagnostics), program };
  const overrides = checkOverrides(program);
  diagnostics.push(...overrides.diagnostics);
  if (overrides.stop) return { ok: false, diagnostics: located(dedupe(diagnostics)), program };

  const inputNames = [...program.inputs.keys()];
  const settingsEval = new Elaborator(program, { batch: 1, training: false });
  let settings: Settings | undefined;
  try {
    const r = resolveSettings(program, (e) => settingsEval.evalGlobal(e), inputNames);
    settings = r.settings;
    diagnostics.push(...r.diagnostics);
  } catch (e) {
    diagnostics.push(diag('SMC3004', e instanceof Error ? e.message : String(e), { file: program.entry, line: 1, column: 1 }));
  }
  const batch = opts.batch ?? settings?.train.batch_size ?? 1;
  const elab = new Elaborator(program, { batch, training: opts.training ?? false, withLoss: opts.withLoss, dmfdStats: opts.dmfdStats });
  let elaborated: Elaborated | undefined;
  try {
    elaborated = elab.run();
    diagnostics.push(...elaborated.diagnostics);
  } catch (e) {
    // An internal failure is still reported as a diagnostic, never a stack trace.
    if (isStackOverflow(e)) diagnostics.push(diag('SMC1006', 'the spec nests too deeply for the checker (constants, blocks or expressions inside each other)', { file: program.entry, line: 1, column: 1 }, 'flatten it: fewer constants defined through other constants, shallower expressions'));
    else diagnostics.push(diag('SMC3004', `internal error while checking: ${e instanceof Error ? e.message : String(e)}`, { file: program.entry, line: 1, column: 1 }, 'please report this with the spec that caused it'));
  }
  // (after an error the graph is incomplete, and every group would look unmatched)
  if (elaborated && settings && !diagnostics.some((d) => d.severity === 'error')) diagnostics.push(...unmatchedGroups(program, settings, elaborated));
  const ok = !diagnostics.some((d) => d.severity === 'error');
  return { ok, diagnostics: located(dedupe(diagnostics)), program, settings, elaborated, graph: elaborated?.graph };
}

/** A parameter group whose patterns match no parameter is almost always a typo: warn. */
function unmatchedGroups(program: Program, settings: Settings, el: Elaborated): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [name, g] of program.sections.get('train')?.groups ?? []) {
    const pats = settings.train.groups.find((x) => x.name === name)?.params ?? [];
    if (!el.graph.params.some((p) => pats.some((pat) => globToRegExp(pat).test(p.name)))) {
      out.push(diag('SMC2019', `group \`${name}\` matches no parameter, so it changes nothing`, g.name.span, 'check the patterns against the names `smcirc inspect --graph` lists (`*` matches any run of characters)', 'warning'));
    }
  }
  return out;
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.code}|${d.message}|${d.span?.file}:${d.span?.line}:${d.span?.column}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Parameters per top-level model member, trainable and frozen. */
export function summarizeParams(result: CheckResult): { rows: ParamSummary[]; trainable: number; frozen: number } {
  const el = result.elaborated;
  if (!el) return { rows: [], trainable: 0, frozen: 0 };
  const rows: ParamSummary[] = el.instances.map((i) => ({ instance: i.name, block: i.block, trainable: 0, frozen: 0 }));
  let trainable = 0;
  let frozen = 0;
  for (const p of el.graph.params) {
    const n = numel(p.shape);
    const top = p.name.split('.')[0]!;
    const row = rows.find((r) => r.instance === top);
    if (p.frozen) frozen += n;
    else trainable += n;
    if (row) {
      if (p.frozen) row.frozen += n;
      else row.trainable += n;
    }
  }
  return { rows, trainable, frozen };
}
