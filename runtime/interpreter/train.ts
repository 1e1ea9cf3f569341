// Runs a train-step graph on the reference interpreter: feeds state + batch, returns the loss and the new state.
import type { TrainStep } from '../../compiler/train-step.js';
import { run, type DType, type Feeds } from './evaluate.js';
import { GRAD_NORM_OUTPUT, LOSS_OUTPUT, newStateOutput } from '../abi/names.js';

export interface StepResult {
  loss: number;
  gradNorm: number;
  /** The full new state (parameters not updated are carried over unchanged). */
  state: Map<string, Float32Array | Float64Array>;
  outputs: Map<string, Float32Array | Float64Array>;
}

export function runTrainStep(step: TrainStep, state: Feeds, batch: Feeds, opts: { dtype: DType }): StepResult {
  const feeds: Feeds = new Map([...state, ...batch]);
  const out = run(step.graph, feeds, opts);
  const next = new Map(state);
  for (const s of step.state) next.set(s.name, out.get(newStateOutput(s.name))!);
  return { loss: out.get(LOSS_OUTPUT)![0]!, gradNorm: out.get(GRAD_NORM_OUTPUT)![0]!, state: next, outputs: out };
}
