// Parameter initialisation (reference §8) from the counter-based RNG: same seed → same weights, independent of
// parameter order (each parameter draws from the stream named by its full name).
import { numel, type InitSpec, type ParamInfo } from './ir/graph.js';
import { rngNormal, rngUniform, streamOf } from './ir/rng.js';

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
export function initParams(params: readonly ParamInfo[], seed: number): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const p of params) m.set(p.name, initTensor(p.name, p.shape, p.init, seed));
  return m;
}
