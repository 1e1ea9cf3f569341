// The `train`, `data` and `eval` sections: known keys, their types and defaults, resolved into typed settings.

import { diag, didYouMean, DiagnosticError, type Diagnostic, type Span } from '../../grammar/diagnostics.js';
import type * as A from '../../grammar/ast.js';
import type { Program } from './load.js';
import { toPlain, type Value } from './values.js';

export type { DataSettings, EvalSettings, ParamGroup, Settings, TrainSettings } from '../../runtime/abi/settings.js';
import type { DataSettings, EvalSettings, ParamGroup, Settings, TrainSettings } from '../../runtime/abi/settings.js';

type Kind = 'num' | 'int' | 'str' | 'bool' | 'nums' | 'strs' | 'expr';
export interface KeySpec {
  kind: Kind;
  default?: unknown;
  /** Smallest allowed value (`int`), or of every element (`nums`). */
  min?: number;
  /** `nums` must be whole numbers. */
  integers?: boolean;
  oneOf?: string[];
  doc: string;
}

export const TRAIN_KEYS: Record<string, KeySpec> = {
  loss: { kind: 'expr', doc: 'scalar loss over the model outputs and targets' },
  optimizer: { kind: 'str', default: 'adam', oneOf: ['adam'], doc: 'torch.optim.Adam semantics (coupled L2 weight decay)' },
  lr: { kind: 'num', default: 1e-3, doc: 'learning rate' },
  eps: { kind: 'num', default: 1e-8, doc: 'Adam epsilon' },
  betas: { kind: 'nums', default: [0.9, 0.999], doc: 'Adam betas' },
  weight_decay: { kind: 'num', default: 0, doc: 'L2 weight decay added to the gradient' },
  clip_grad_norm: { kind: 'num', default: 0, doc: 'clip gradients to this global L2 norm (0: off)' },
  batch_size: { kind: 'int', default: 64, min: 1, doc: 'training batch size' },
  early_stop: { kind: 'int', default: 8, doc: 'epochs without validation improvement before stopping' },
  max_epochs: { kind: 'int', default: 100, min: 1, doc: 'upper bound on epochs' },
  seeds: { kind: 'nums', default: [1111], min: 0, integers: true, doc: 'one run per seed' },
  inject_nan_at_step: { kind: 'int', default: 0, doc: 'testing aid: poison the loss at this step' },
};

export const GROUP_KEYS: Record<string, KeySpec> = {
  params: { kind: 'strs', doc: 'glob patterns over parameter names' },
  lr: { kind: 'num', doc: 'learning rate of this group' },
  weight_decay: { kind: 'num', doc: 'weight decay of this group' },
};

export const DATA_KEYS: Record<string, KeySpec> = {
  synthetic_train: { kind: 'int', default: 512, doc: 'synthetic training samples' },
  synthetic_valid: { kind: 'int', default: 128, doc: 'synthetic validation samples' },
  synthetic_test: { kind: 'int', default: 128, doc: 'synthetic test samples' },
  synthetic_seed: { kind: 'int', default: 7, doc: 'synthetic data seed' },
  synthetic_missing_rate: { kind: 'num', default: 0.2, doc: 'fraction of synthetic samples with a modality removed' },
  text_vocab: { kind: 'int', default: 0, min: 0, doc: 'vocabulary size when the text input holds BERT token ids [3, L] (ids, attention mask, segment ids; MMSA `text_bert`): ids are checked against it, the synthetic set makes token ids, and --missing-rate replaces dropped tokens with [UNK]; 0: text features' },
};

export const EVAL_KEYS: Record<string, KeySpec> = {
  conditions: { kind: 'strs', default: ['LVA', 'L', 'LV', 'LA'], doc: 'modality sets kept at test time' },
  missing: { kind: 'str', default: 'zero', oneOf: ['zero'], doc: 'how a removed modality is filled' },
  dmfd_stats: { kind: 'str', default: 'population', oneOf: ['batch', 'population'], doc: 'DMFD threshold statistics' },
  batch_size: { kind: 'int', default: 64, min: 1, doc: 'evaluation batch size' },
};

const CONDITIONS = new Set(['L', 'V', 'A', 'LV', 'LA', 'VA', 'LVA']);

/** Resolves the sections; `evalValue` evaluates a setting expression in the global scope. */
export function resolveSettings(program: Program, evalValue: (e: A.Expr) => Value, inputNames: string[]): { settings: Settings; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  for (const [name, sec] of program.sections) {
    if (!['train', 'data', 'eval'].includes(name)) {
      diagnostics.push(diag('SMC2010', `unknown section \`${name}\``, sec.span, didYouMean(name, ['train', 'data', 'eval']) ?? 'sections are `train`, `data` and `eval`'));
    }
  }
  const read = (section: string, keys: Record<string, KeySpec>, extra?: (key: string) => boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, spec] of Object.entries(keys)) if (spec.default !== undefined) out[k] = spec.default;
    const sec = program.sections.get(section);
    if (!sec) return out;
    for (const [key, s] of sec.values) {
      const spec = keys[key];
      if (!spec) {
        if (extra?.(key)) {
          out[key] = value(s, { kind: 'str', doc: '' }, section);
          continue;
        }
        diagnostics.push(diag('SMC2010', `\`${section}\` has no setting \`${key}\``, s.key.span, didYouMean(key, [...Object.keys(keys), ...(extra ? inputNames : [])]) ?? `its settings are: ${Object.keys(keys).join(', ')}`));
        continue;
      }
      if (spec.kind === 'expr') continue;
      const v = value(s, spec, section);
      if (v !== undefined) out[key] = v;
    }
    return out;
  };
  const value = (s: A.Setting, spec: KeySpec, section: string): unknown => {
    try {
      const v = toPlain(evalValue(s.value), `\`${s.key.name}\``, s.value.span);
      const bad = (want: string, hint?: string) => diagnostics.push(diag('SMC3004', `\`${s.key.name}\` must be ${want}, got ${JSON.stringify(v)}`, s.value.span, hint));
      switch (spec.kind) {
        case 'num':
          if (typeof v !== 'number' || !Number.isFinite(v)) return bad('a number');
          return v;
        case 'int':
          if (typeof v !== 'number' || !Number.isInteger(v) || v < (spec.min ?? 0)) return bad(`a whole number ≥ ${spec.min ?? 0}`);
          return v;
        case 'str':
          if (typeof v !== 'string') return bad('a string');
          if (spec.oneOf && !spec.oneOf.includes(v)) return bad(`one of ${spec.oneOf.map((o) => `"${o}"`).join(', ')}`, oneOfHint(v, spec.oneOf, section, s));
          return v;
        case 'bool':
          if (typeof v !== 'boolean') return bad('true or false');
          return v;
        case 'nums':
          if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && (!spec.integers || Number.isInteger(x)) && x >= (spec.min ?? -Infinity))) {
            return bad(spec.integers ? `a list of whole numbers ≥ ${spec.min ?? 0}` : 'a list of numbers');
          }
          if (v.length === 0) return bad('a non-empty list');
          return v;
        case 'strs':
          if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return bad('a list of strings');
          return v;
      }
    } catch (e) {
      if (e instanceof DiagnosticError) diagnostics.push(e.diagnostic);
      else throw e;
    }
    return undefined;
  };

  const t = read('train', TRAIN_KEYS);
  const groups: ParamGroup[] = [];
  for (const [name, g] of program.sections.get('train')?.groups ?? []) {
    if (g.section.name !== 'group') {
      diagnostics.push(diag('SMC2010', `unknown subsection \`${g.section.name}\` in \`train\``, g.section.span, 'parameter groups are written `group name { params = ["pattern"], lr = ..., weight_decay = ... }`'));
      continue;
    }
    const gv: Record<string, unknown> = {};
    for (const s of g.settings) {
      const spec = GROUP_KEYS[s.key.name];
      if (!spec) {
        diagnostics.push(diag('SMC2010', `a parameter group has no setting \`${s.key.name}\``, s.key.span, didYouMean(s.key.name, Object.keys(GROUP_KEYS)) ?? `its settings are: ${Object.keys(GROUP_KEYS).join(', ')}`));
        continue;
      }
      gv[s.key.name] = value(s, spec, 'train');
    }
    if (!Array.isArray(gv.params)) {
      diagnostics.push(diag('SMC2017', `group \`${name}\` needs \`params = ["pattern", ...]\``, g.name.span));
      continue;
    }
    groups.push({ name, params: gv.params as string[], lr: gv.lr as number | undefined, weight_decay: gv.weight_decay as number | undefined });
  }
  const betas = t.betas as number[];
  const trainSpan = program.sections.get('train')?.span;
  if (betas.length !== 2 && trainSpan) diagnostics.push(diag('SMC3004', '`betas` must have two values', trainSpan));
  const train: TrainSettings = {
    optimizer: 'adam',
    lr: t.lr as number,
    eps: t.eps as number,
    betas: [betas[0] ?? 0.9, betas[1] ?? 0.999],
    weight_decay: t.weight_decay as number,
    clip_grad_norm: t.clip_grad_norm as number,
    batch_size: t.batch_size as number,
    early_stop: t.early_stop as number,
    max_epochs: t.max_epochs as number,
    seeds: t.seeds as number[],
    groups,
    inject_nan_at_step: t.inject_nan_at_step as number,
  };

  const d = read('data', DATA_KEYS, (k) => inputNames.includes(k));
  const keys: Record<string, string> = {};
  for (const name of inputNames) keys[name] = typeof d[name] === 'string' ? (d[name] as string) : name;
  const data: DataSettings = {
    keys,
    synthetic: {
      n_train: d.synthetic_train as number,
      n_valid: d.synthetic_valid as number,
      n_test: d.synthetic_test as number,
      seed: d.synthetic_seed as number,
      missing_rate: d.synthetic_missing_rate as number,
    },
    text_vocab: d.text_vocab as number,
  };

  const e = read('eval', EVAL_KEYS);
  const conditions = e.conditions as string[];
  const evalSpan: Span | undefined = program.sections.get('eval')?.values.get('conditions')?.value.span;
  for (const c of conditions) {
    if (!CONDITIONS.has(c)) diagnostics.push(diag('SMC3004', `unknown test condition "${c}"`, evalSpan, 'conditions name the modalities kept: L, V, A, LV, LA, VA, LVA'));
  }
  const ev: EvalSettings = { conditions, missing: 'zero', dmfd_stats: e.dmfd_stats as EvalSettings['dmfd_stats'], batch_size: e.batch_size as number };
  return { settings: { train, data, eval: ev }, diagnostics };
}

/** `did you mean `batch`? write `--set eval.dmfd_stats=batch` or …` (or the spec-file form). */
function oneOfHint(v: string, oneOf: string[], section: string, s: A.Setting): string {
  const viaSet = s.value.span.file === '<--set>';
  const forms = oneOf.map((o) => (viaSet ? `\`--set ${section}.${s.key.name}=${o}\`` : `\`${s.key.name} = "${o}"\``));
  const dym = didYouMean(v, oneOf);
  return `${dym ? `${dym} ` : ''}write ${forms.slice(0, -1).join(', ')}${forms.length > 1 ? ' or ' : ''}${forms[forms.length - 1]}`;
}
