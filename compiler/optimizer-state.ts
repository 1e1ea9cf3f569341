// What the optimizer's part of a train step is made of, shared by the routine and the primitive forms: options and
// parameter groups, the state bindings (parameters, Adam m / v, step counts) and their names.
import type { GraphBuilder, ParamInfo } from './ir/graph.js';
import { adamM, adamT, adamV, STEP_STATE } from '../runtime/abi/names.js';

export interface OptimizerGroup {
  lr: number;
  weightDecay: number;
}

export interface TrainStepOptions {
  /** The scalar loss: a forward output name or a node id. */
  loss: string | number;
  lr: number;
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
  /** clip_grad_norm_ max norm over all updated parameters; null/undefined: no clipping. */
  maxGradNorm?: number | null;
  /** Per parameter group overrides (ParamInfo.group → lr / weight decay). */
  groups?: Record<string, Partial<OptimizerGroup>>;
  /**
   * Groups by glob over parameter names (`*` matches any run of characters, dots included), as the spec's
   * `train { group name { params = [...] } }`. The first matching pattern group wins over `groups`.
   */
  patternGroups?: { name: string; params: string[]; lr?: number; weightDecay?: number }[];
  /**
   * torch.optim.Adam skips parameters whose .grad is None (not used in this step's forward, e.g. a generator when
   * DMFD flags no sample). The graph always runs every branch, so a parameter with an all-zero gradient is taken
   * as unused: its value, m, v and step count stay as they are (default true).
   */
  skipUnused?: boolean;
  /**
   * How clipping + Adam are emitted: one `adam_update` routine (default; updated in place on the GPU), or ordinary
   * per-parameter graph ops (one kernel per primitive when unfused; the state is copied back after each step).
   * Both compute the same values and give the same TrainStep shape.
   */
  optimizer?: 'routine' | 'primitives';
}

export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** The optimiser group, lr and weight decay that apply to one parameter. */
export function paramGroup(p: ParamInfo, o: TrainStepOptions): { group: string } & OptimizerGroup {
  const base = { lr: o.lr, weightDecay: o.weightDecay ?? 0 };
  for (const pg of o.patternGroups ?? []) {
    if (pg.params.some((glob) => globToRegExp(glob).test(p.name))) {
      return { group: pg.name, lr: pg.lr ?? base.lr, weightDecay: pg.weightDecay ?? base.weightDecay };
    }
  }
  return { group: p.group, ...base, ...(o.groups?.[p.group] ?? {}) };
}

export type { StateKind } from '../runtime/abi/model.js';
import type { StateKind } from '../runtime/abi/model.js';

/** One state buffer: read at `node` (a param or input node) and replaced by the value of `update`. */
export interface StateBinding {
  /** Feed name: the parameter name, `adam.m.<param>`, `adam.v.<param>`, `adam.t.<param>` or `adam.step` (global count). */
  name: string;
  kind: StateKind;
  shape: number[];
  node: number;
  update: number;
  /** The parameter this buffer belongs to (absent for the step count). */
  param?: string;
}

export const STEP_INPUT = STEP_STATE;
export const mName = adamM;
export const vName = adamV;
/** Per-parameter Adam step count (torch keeps one per parameter; it does not advance while the grad is None). */
export const tName = adamT;

/** The global step count `adam.step`, advanced by one each step. */
export function globalStepBinding(g: GraphBuilder): StateBinding {
  const t = g.input(STEP_INPUT, []);
  return { name: STEP_INPUT, kind: 'step', shape: [], node: t, update: g.add2(t, g.scalar(1)) };
}

