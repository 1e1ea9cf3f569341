// Checkpoint names → the spec's parameter names through a DECLARED table: rewrite rules written as templates
// (`bert.{rest}` → `{rest}`), applied in order, then the spec's member prefix. Reports missing and mis-shaped
// tensors by name (with the checkpoint name they would come from), known-unused ones for one warning line, and
// unexpected ones. A different spec layout is a different table, not different code.

import { WeightsError } from './errors.js';
import type { Tensor } from './torch-tensors.js';

/** Rewrites a checkpoint name matching `checkpoint` into `block`; `{x}` placeholders match any text. */
export interface RenameRule {
  checkpoint: string;
  block: string;
  why?: string;
}

export interface NameMap {
  /** Applied in order to every checkpoint name; each rule applies when it matches. */
  rules: RenameRule[];
  /** Templates of block names (after the rules) a checkpoint may carry that the block does not use. */
  knownUnused: string[];
}

/** Hugging Face BERT checkpoints (bert-base-uncased and its descendants) → BertModel's layout inside the block. */
export const HF_BERT_NAME_MAP: NameMap = {
  rules: [
    { checkpoint: 'bert.{rest}', block: '{rest}', why: 'BertForPreTraining / BertForMaskedLM nest BertModel under `bert.`' },
    { checkpoint: '{path}LayerNorm.gamma', block: '{path}LayerNorm.weight', why: 'the original TF-converted checkpoint’s LayerNorm names' },
    { checkpoint: '{path}LayerNorm.beta', block: '{path}LayerNorm.bias', why: 'the original TF-converted checkpoint’s LayerNorm names' },
  ],
  knownUnused: ['pooler.{rest}', 'cls.{rest}', 'embeddings.position_ids'],
};

/** The same onto specs/lib/bert.smcir, where `output` is a keyword of the language and BertModel's `output`
 *  members are named `out`. What `smcirc train --init <member>=<folder>` uses. */
export const SMCIR_BERT_NAME_MAP: NameMap = {
  rules: [
    ...HF_BERT_NAME_MAP.rules,
    { checkpoint: '{path}.output.{rest}', block: '{path}.out.{rest}', why: '`output` is a keyword of the .smcir language: specs/lib/bert.smcir names BertModel’s output members `out`' },
  ],
  knownUnused: HF_BERT_NAME_MAP.knownUnused,
};

interface Template {
  re: RegExp;
  fill: (groups: Record<string, string>) => string;
  names: string[];
}

function template(t: string): Template {
  const parts = t.split(/\{(\w+)\}/);
  const names = parts.filter((_, i) => i % 2 === 1);
  if (new Set(names).size !== names.length) throw new Error(`name map template ${t} repeats a placeholder`);
  const src = parts.map((p, i) => (i % 2 ? `(?<${p}>.*)` : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return { re: new RegExp(`^${src}$`), names, fill: (g) => parts.map((p, i) => (i % 2 ? g[p]! : p)).join('') };
}

function compile(map: NameMap) {
  const rules = map.rules.map((r) => {
    const c = template(r.checkpoint);
    const b = template(r.block);
    if ([...c.names].sort().join() !== [...b.names].sort().join()) throw new Error(`name map rule ${r.checkpoint} → ${r.block}: placeholders differ`);
    return { c, b };
  });
  const unused = map.knownUnused.map(template);
  return { rules, unused };
}

/** The block name of a checkpoint name, and which rules fired. */
function forward(rules: ReturnType<typeof compile>['rules'], name: string, fired: Set<number>): string {
  let n = name;
  rules.forEach((r, i) => {
    const m = r.c.re.exec(n);
    if (m) {
      n = r.b.fill(m.groups ?? {});
      fired.add(i);
    }
  });
  return n;
}

/**
 * The checkpoint name a block name would come from: every name that maps to it by undoing some of the rules (in
 * reverse order), preferring names whose rules this checkpoint uses, then the one sharing the longest dotted
 * prefix with a name the checkpoint has (its siblings), then the one most rules produced.
 */
function inverse(rules: ReturnType<typeof compile>['rules'], block: string, fired: Set<number>, prefixes: Set<string>): string {
  const found: string[] = [];
  const walk = (n: string, i: number) => {
    if (i < 0) return void found.push(n);
    walk(n, i - 1);
    const m = rules[i]!.b.re.exec(n);
    if (m) walk(rules[i]!.c.fill(m.groups ?? {}), i - 1);
  };
  walk(block, rules.length - 1);
  let best = block;
  let bestKey = [-1, -1, -1];
  for (const n of found) {
    const used = new Set<number>();
    if (forward(rules, n, used) !== block) continue;
    const parts = n.split('.');
    let shared = 0;
    while (shared < parts.length && prefixes.has(parts.slice(0, shared + 1).join('.'))) shared++;
    const key = [[...used].every((i) => fired.has(i)) ? 1 : 0, shared, used.size];
    if (key[0]! > bestKey[0]! || (key[0] === bestKey[0] && (key[1]! > bestKey[1]! || (key[1] === bestKey[1] && key[2]! > bestKey[2]!)))) {
      best = n;
      bestKey = key;
    }
  }
  return best;
}

export interface MapOptions {
  /** The spec member's prefix, e.g. `bert.`: only targets under it are looked for in the checkpoint. */
  prefix?: string;
  nameMap?: NameMap;
  /** Accept checkpoint tensors that are neither used nor known to be unused (listed in `unexpected`). */
  allowUnexpected?: boolean;
  /** The checkpoint file, for messages. */
  file?: string;
}

export interface MappedWeights {
  /** By target (spec) name. */
  tensors: Map<string, Tensor>;
  /** Target name → the checkpoint name it came from. */
  sources: Map<string, string>;
  /** Checkpoint names known to be unused (pooler, pre-training heads). */
  unused: string[];
  /** Checkpoint names neither used nor known-unused (non-empty only with allowUnexpected). */
  unexpected: string[];
  /** One line for the user about `unused` and `unexpected`, or undefined when both are empty. */
  warning?: string;
}

const list = (names: string[], n = 4): string => names.slice(0, n).map((x) => `\`${x}\``).join(', ') + (names.length > n ? ` and ${names.length - n} more` : '');
const shapeStr = (s: number[]) => `[${s.join(', ')}]`;

/** Maps checkpoint tensors onto the targets under `prefix`; throws WeightsError SMC5044/5045/5046. */
export function mapCheckpointNames(checkpoint: Map<string, Tensor>, targets: { name: string; shape: number[] }[], opts: MapOptions = {}): MappedWeights {
  const prefix = opts.prefix ?? '';
  const { rules, unused: unusedT } = compile(opts.nameMap ?? HF_BERT_NAME_MAP);
  const wanted = new Map(targets.filter((t) => t.name.startsWith(prefix)).map((t) => [t.name, t.shape]));
  const fired = new Set<number>();
  const sources = new Map<string, string>();
  const unused: string[] = [];
  const unexpected: string[] = [];
  const fail = (code: 'SMC5044' | 'SMC5045' | 'SMC5046', name: string, message: string, hint: string): never => {
    throw new WeightsError({ code, file: opts.file, name, message, hint });
  };
  for (const name of checkpoint.keys()) {
    const block = forward(rules, name, fired);
    const target = prefix + block;
    if (wanted.has(target)) {
      const prev = sources.get(target);
      if (prev) fail('SMC5046', name, `checkpoint tensors \`${prev}\` and \`${name}\` both map to \`${target}\``, 'the checkpoint mixes two naming styles; keep one copy of each tensor');
      sources.set(target, name);
    } else if (unusedT.some((t) => t.re.test(block))) unused.push(name);
    else unexpected.push(name);
  }
  const missing = [...wanted.keys()].filter((t) => !sources.has(t));
  if (missing.length) {
    const prefixes = new Set([...checkpoint.keys()].flatMap((n) => n.split('.').map((_, i, a) => a.slice(0, i + 1).join('.'))));
    const looked = missing.slice(0, 4).map((t) => `\`${t}\` (checkpoint name \`${inverse(rules, t.slice(prefix.length), fired, prefixes)}\`)`);
    const also = unexpected.length ? `; the checkpoint has unexpected ${list(unexpected)}` : '';
    fail('SMC5044', missing[0]!, `the checkpoint has no tensor for ${looked.join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more` : ''}${also}`,
      'the checkpoint is not a BERT of this layout, or a tensor was renamed; compare its names with the spec’s parameters (`smcirc inspect <spec> --graph`), or add a rule to the name map');
  }
  const misshaped: { target: string; text: string }[] = [];
  for (const [target, src] of sources) {
    const have = checkpoint.get(src)!.shape;
    const want = wanted.get(target)!;
    if (have.length !== want.length || have.some((d, i) => d !== want[i])) {
      const transposed = have.length === 2 && want.length === 2 && have[0] === want[1] && have[1] === want[0] ? ' (its transpose)' : '';
      misshaped.push({ target, text: `\`${target}\` (checkpoint \`${src}\`) is ${shapeStr(have)}, the spec wants ${shapeStr(want)}${transposed}` });
    }
  }
  if (misshaped.length) {
    const more = misshaped.length > 4 ? ` and ${misshaped.length - 4} more` : '';
    fail('SMC5045', misshaped[0]!.target, `tensor shape mismatch: ${misshaped.slice(0, 4).map((m) => m.text).join('; ')}${more}`,
      'the checkpoint was trained with another configuration: make the spec’s widths match its config.json (hidden_size, intermediate_size, vocab_size, …)');
  }
  if (unexpected.length && !opts.allowUnexpected) {
    fail('SMC5046', unexpected[0]!, `the checkpoint has ${unexpected.length} tensor(s) the spec does not use: ${list(unexpected)}`,
      'a fine-tuned head (e.g. `classifier.*`) or another model; allow unexpected tensors to ignore them, or add them to the name map’s known-unused list');
  }
  const tensors = new Map<string, Tensor>();
  for (const [target, src] of sources) tensors.set(target, checkpoint.get(src)!);
  const skipped = [...unused, ...unexpected];
  const warning = skipped.length ? `ignoring ${skipped.length} checkpoint tensor(s) the spec does not use: ${list(skipped)}` : undefined;
  return { tensors, sources, unused, unexpected, warning };
}
