// The contract between the training/evaluation loops and an execution backend (reference interpreter or GPU).

export type Tensors = Map<string, Float32Array>;

export interface Backend {
  readonly name: 'reference' | 'gpu';
  /** Sets parameters and optimiser state by state name (parameter names, adam.m.*, adam.v.*, adam.t.*, adam.step);
   *  entries not given keep their values (loading weights keeps the Adam state). */
  setState(state: Tensors): Promise<void>;
  getState(): Promise<Tensors>;
  /** One train step on a full batch (inputs and targets by name); returns the loss and the global gradient norm
   *  (before clipping). `seed` keys dropout. */
  trainStep(batch: Tensors, seed: number): Promise<{ loss: number; gradNorm: number }>;
  /** The evaluation forward on one eval batch; returns the model outputs (and population-statistics scores). */
  forward(batch: Tensors, stats: Map<string, number>): Promise<Tensors>;
  dispose(): Promise<void>;
  /** What runs the steps, for run provenance (the adapter, or the interpreter). */
  describe(): string;
}

/** A population statistic the forward reads; a missing one is a caller bug, not a silent zero. */
export function statValue(stats: Map<string, number>, name: string): number {
  const v = stats.get(name);
  if (v === undefined) throw new Error(`forward: no value for the DMFD statistic ${name}`);
  return v;
}
