// A Hugging Face BERT config.json: the fields that fix the architecture (with BertConfig's defaults for the
// optional ones, recorded), and the parameter table of HF's BertModel layout that a config implies.

import { readFileSync } from 'node:fs';
import { WeightsError } from './errors.js';

export interface BertConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  vocab_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  hidden_act: string;
  /** Optional fields that were absent and took Hugging Face BertConfig's default. */
  defaulted: string[];
  /** The whole parsed file. */
  raw: Record<string, unknown>;
}

const REQUIRED = ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'vocab_size'] as const;
const DEFAULTS = { max_position_embeddings: 512, type_vocab_size: 2, layer_norm_eps: 1e-12, hidden_act: 'gelu' } as const;

export function parseBertConfig(text: string, file = 'config.json'): BertConfig {
  const bad = (message: string, name?: string): never => {
    throw new WeightsError({ code: 'SMC5047', file, name, message, hint: 'use the config.json that came with the weights (Hugging Face BertConfig fields)' });
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return bad(`not valid JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('not a JSON object');
  const r = raw as Record<string, unknown>;
  const defaulted: string[] = [];
  const int = (k: string, min: number): number => {
    const v = r[k];
    if (!Number.isSafeInteger(v) || (v as number) < min) bad(`\`${k}\` is ${JSON.stringify(v)}, not an integer >= ${min}`, k);
    return v as number;
  };
  for (const k of REQUIRED) if (!(k in r)) bad(`\`${k}\` is missing`, k);
  for (const k of Object.keys(DEFAULTS)) if (!(k in r)) defaulted.push(k);
  const cfg: BertConfig = {
    hidden_size: int('hidden_size', 1),
    num_hidden_layers: int('num_hidden_layers', 1),
    num_attention_heads: int('num_attention_heads', 1),
    intermediate_size: int('intermediate_size', 1),
    vocab_size: int('vocab_size', 1),
    max_position_embeddings: 'max_position_embeddings' in r ? int('max_position_embeddings', 1) : DEFAULTS.max_position_embeddings,
    type_vocab_size: 'type_vocab_size' in r ? int('type_vocab_size', 1) : DEFAULTS.type_vocab_size,
    layer_norm_eps: DEFAULTS.layer_norm_eps,
    hidden_act: DEFAULTS.hidden_act,
    defaulted,
    raw: r,
  };
  if ('layer_norm_eps' in r) {
    const v = r.layer_norm_eps;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) bad(`\`layer_norm_eps\` is ${JSON.stringify(v)}, not a positive number`, 'layer_norm_eps');
    cfg.layer_norm_eps = v as number;
  }
  if ('hidden_act' in r) {
    if (typeof r.hidden_act !== 'string' || !r.hidden_act) bad(`\`hidden_act\` is ${JSON.stringify(r.hidden_act)}, not an activation name`, 'hidden_act');
    cfg.hidden_act = r.hidden_act as string;
  }
  if (cfg.hidden_size % cfg.num_attention_heads !== 0) {
    bad(`hidden_size ${cfg.hidden_size} is not a multiple of num_attention_heads ${cfg.num_attention_heads}`, 'num_attention_heads');
  }
  return cfg;
}

export function readBertConfig(path: string): BertConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new WeightsError({ code: 'SMC5040', file: path, message: `cannot read config.json: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint: 'a Hugging Face model folder holds config.json next to its weights' });
  }
  return parseBertConfig(text, path);
}

/** HF BertModel's encoder parameters (no pooler) for a config, unprefixed: `embeddings.…`, `encoder.layer.<i>.…`. */
export function bertParameterShapes(c: BertConfig): { name: string; shape: number[] }[] {
  const H = c.hidden_size;
  const F = c.intermediate_size;
  const out: { name: string; shape: number[] }[] = [];
  const add = (name: string, ...shape: number[]) => out.push({ name, shape });
  const ln = (p: string) => (add(`${p}.LayerNorm.weight`, H), add(`${p}.LayerNorm.bias`, H));
  add('embeddings.word_embeddings.weight', c.vocab_size, H);
  add('embeddings.position_embeddings.weight', c.max_position_embeddings, H);
  add('embeddings.token_type_embeddings.weight', c.type_vocab_size, H);
  ln('embeddings');
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `encoder.layer.${i}`;
    for (const m of ['query', 'key', 'value']) (add(`${p}.attention.self.${m}.weight`, H, H), add(`${p}.attention.self.${m}.bias`, H));
    add(`${p}.attention.output.dense.weight`, H, H);
    add(`${p}.attention.output.dense.bias`, H);
    ln(`${p}.attention.output`);
    add(`${p}.intermediate.dense.weight`, F, H);
    add(`${p}.intermediate.dense.bias`, F);
    add(`${p}.output.dense.weight`, H, F);
    add(`${p}.output.dense.bias`, H);
    ln(`${p}.output`);
  }
  return out;
}
