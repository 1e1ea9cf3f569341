// Initial training state: parameters from their initialisers (counter-based RNG: same seed → same weights,
// independent of parameter order, each parameter drawing from the stream named by its full name), Adam moments
// and step counts at zero.
import type { InitSpec, ParameterAbi, StateAbi } from './model.js';
import { rngNormal, rngUniform, streamOf } from './rng.js';

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The values of one parameter, row-major, as f32. */
export function initTensor(name: string, shape: readonly number[], init: InitSpec, seed: number): Float32Array {
  const n = numel(shape);
  const out = new Float32Array(n);
  const stream = streamOf(name);
  switch (init.kind) {
    case 'zeros': break;
    case 'ones': out.fill(1); break;
    case 'normal': for (let i = 0; i < n; i++) out[i] = init.std * rngNormal(seed, stream, i); break;
    case 'uniform': for (let i = 0; i < n; i++) out[i] = (2 * rngUniform(seed, stream, i) - 1) * init.bound; break;
    case 'xavier_uniform': {
      const bound = Math.sqrt(6 / (init.fanIn + init.fanOut));
      for (let i = 0; i < n; i++) out[i] = (2 * rngUniform(seed, stream, i) - 1) * bound;
      break;
    }
  }
  return out;
}

/** Initial values of all parameters by name. */
export function initParams(params: readonly Pick<ParameterAbi, 'name' | 'shape' | 'init'>[], seed: number): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const p of params) m.set(p.name, initTensor(p.name, p.shape, p.init, seed));
  return m;
}

/** The whole training state: the given parameter values, Adam moments and step counts at zero. */
export function initTrainState(state: readonly StateAbi[], params: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  const st = new Map<string, Float32Array>();
  for (const s of state) {
    if (s.kind === 'param') {
      const v = params.get(s.name);
      if (!v) throw new Error(`initTrainState: no value for parameter \`${s.name}\``);
      st.set(s.name, v);
    } else {
      st.set(s.name, new Float32Array(numel(s.shape)));
    }
  }
  for (const [name, v] of params) if (!st.has(name)) st.set(name, v); // frozen parameters: fed, never updated
  return st;
}
