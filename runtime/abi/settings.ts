// A spec's resolved `train`, `data` and `eval` settings: what the runtime reads (the checker in
// compiler/check/settings.ts resolves them from a spec; bundles carry them in manifest.json).

export interface ParamGroup {
  name: string;
  /** Glob patterns over parameter names (`*` matches within and across dots). */
  params: string[];
  lr?: number;
  weight_decay?: number;
}

export interface TrainSettings {
  optimizer: 'adam';
  lr: number;
  eps: number;
  betas: [number, number];
  weight_decay: number;
  clip_grad_norm: number;
  batch_size: number;
  early_stop: number;
  max_epochs: number;
  seeds: number[];
  groups: ParamGroup[];
  /** Test hook: make the loss NaN at this (1-based) step; 0 = never. */
  inject_nan_at_step: number;
}

export interface DataSettings {
  /** Input or target name → key in the MMSA pickle. */
  keys: Record<string, string>;
  synthetic: { n_train: number; n_valid: number; n_test: number; seed: number; missing_rate: number };
  /** > 0: the text input holds BERT token ids [3, L] (ids, attention mask, segment ids) from this vocabulary. */
  text_vocab: number;
}

export interface EvalSettings {
  conditions: string[];
  missing: 'zero';
  dmfd_stats: 'batch' | 'population';
  batch_size: number;
}

export interface Settings {
  train: TrainSettings;
  data: DataSettings;
  eval: EvalSettings;
}
