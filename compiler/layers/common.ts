// Options shared by every layer: parameter freezing, optimiser group, and the step seed for dropout.
import type { GraphBuilder } from '../ir/graph.js';

export interface ParamOpts {
  /** Frozen parameters get no gradient and no update. */
  frozen?: boolean;
  /** Optimiser parameter group (lr / weight decay per group in the train settings). */
  group?: string;
}

export const pOpts = (o: ParamOpts): { frozen?: boolean; group?: string } => ({ frozen: o.frozen, group: o.group });

/** The graph's scalar `seed` input (fed with a fresh integer each step), created on first use. */
export function stepSeed(g: GraphBuilder): number {
  return g.inputs.get('seed') ?? g.input('seed', []);
}

export const lastDim = (g: GraphBuilder, x: number): number => {
  const s = g.shape(x);
  return s[s.length - 1]!;
};
