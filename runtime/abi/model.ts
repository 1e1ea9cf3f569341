// What the runtime knows of a model: its data inputs and target, outputs, parameters (with their initialisers)
// and optimizer state, the DMFD population statistics, the resolved settings, the spec sources, and — for the
// GPU — the two programs (train step, evaluation forward) as dispatch plans with every buffer's role. A bundle's
// manifest.json is this, serialized (runtime/abi/manifest.ts); `smcirc train <spec>` builds the same in memory.

import type { DispatchPlan } from './plan.js';
import type { Settings } from './settings.js';

/** How a parameter is initialised (reference §8); drawn from the seeded counter-based RNG (runtime/abi/rng.ts). */
export type InitSpec =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'normal'; std: number }
  | { kind: 'uniform'; bound: number }
  | { kind: 'xavier_uniform'; fanIn: number; fanOut: number };

export interface ParameterAbi {
  /** Dotted PyTorch-style name, e.g. `cmcg.gen_v.lstm.l0.weight_ih`. */
  name: string;
  shape: number[];
  init: InitSpec;
  /** Frozen parameters are never updated and get no gradient. */
  frozen: boolean;
  group: string;
}

export type StateKind = 'param' | 'adam_m' | 'adam_v' | 'step';

/** One piece of training state: a parameter, an Adam moment, a step count. */
export interface StateAbi {
  /** The parameter name, `adam.m.<param>`, `adam.v.<param>`, `adam.t.<param>` or `adam.step`. */
  name: string;
  kind: StateKind;
  shape: number[];
}

/** A population statistic the forward reads: the mean or population std of the per-sample output `score`. */
export interface StatAbi {
  kind: 'mean' | 'std';
  /** The block that computes the score (e.g. `dmfd.rule_v`): how reports and diagnostics name it. */
  label: string;
  /** The forward's scalar input that receives it. */
  input: string;
  score: string;
}

/** Per kernel of the kernel program (in order): what validate mode needs to check it against the interpreter. */
export interface KernelTrace {
  /** Graph nodes whose values are complete once the kernel has run. */
  nodes: number[];
  /** Tensors the kernel reads (with the tensors placed inside them). */
  reads: string[];
}

/** One GPU program: a dispatch plan plus the map from names the runtime uses to the plan's tensors. */
export interface ProgramAbi {
  plan: DispatchPlan;
  /** The batch size the program is built for. */
  batch: number;
  /** Feed name → tensor: data inputs, parameters, optimizer state, internal inputs (`__seed`, statistics). */
  feeds: Record<string, string>;
  /** Graph output name → tensor. */
  outputs: Record<string, string>;
  /** State name → the tensor holding its current value after a step (train step only). */
  state: Record<string, string>;
  /** Graph node id → tensor, for every materialised node (validate mode). */
  nodes: Record<string, string>;
  /** Per kernel-IR kernel (dispatches name theirs in `source`). */
  trace: KernelTrace[];
}

/** The adapter a program was compiled for: kernels are chosen per adapter and must fit its limits. */
export interface TargetAbi {
  adapter: string;
  /** Chosen for a software adapter (lavapipe): one invocation per row, no workgroup memory. */
  software: boolean;
  limits: Record<string, number>;
  features: string[];
}

export interface ModelAbi {
  /** The spec: its entry file and every source file, named relative to their common folder (`spec/…`). */
  spec: { entry: string; files: Map<string, string>; overrides: string[] };
  settings: Settings;
  /** Every constant of the spec after imports and overrides (provenance; the programs already hold their effect). */
  constants?: Record<string, unknown>;
  /** Data inputs and the target, without the batch axis. */
  inputs: Map<string, number[]>;
  /** Model outputs of the evaluation forward (pred, state_v, …), without the batch axis. */
  outputs: { name: string; shape: number[] }[];
  parameters: ParameterAbi[];
  state: StateAbi[];
  stats: StatAbi[];
  batch: { train: number; forward: number };
  gpu?: { train: ProgramAbi; forward: ProgramAbi; target: TargetAbi };
}

/** The spec's file name without folders, for messages and run folder names. */
export const specName = (m: ModelAbi): string => m.spec.entry.split('/').pop()!;
