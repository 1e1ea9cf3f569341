// Every bound the front end puts on its input, in one place. A spec is a program from someone else: these limits are
// decided up front and checked before anything proportional to them is allocated or recursed into, so that `check`
// and `compile` finish in bounded time and memory on any input and report a located error (never an internal one).
// The numbers leave a wide margin above the largest real specs (specs/smcir-bert.smcir: 2,338 graph nodes, 164 M
// parameters, largest tensor 23 M elements, 11.5 GiB of forward activations at batch 64).
//
// This module has no imports, so that grammar/ can use it too.

const GiB = 2 ** 30;

export const LIMITS = {
  // ---- source text (SMC1005, SMC1006, SMC1007) ----
  /** Bytes of one spec file (the entry or an import), checked from `stat` before it is read. */
  specBytes: 1 << 20,
  /** Bytes of all the files of one spec together. */
  totalSpecBytes: 8 << 20,
  /** Files one spec may load (the entry and everything it imports). */
  files: 256,
  /** Imports nested inside imports. */
  importDepth: 64,
  /** Brackets `( [ {` plus prefix and right-associative operators (`-x`, `not`, `if`, `**`) open at once inside one
   *  expression: what the recursive-descent parser recurses on (about a dozen rule frames per bracket). */
  nesting: 64,
  /** Depth of one expression's syntax tree (long operator chains `1 + 1 + … + 1`, suffix chains `a.b.c…`): what the
   *  checker's evaluator recurses on. */
  exprDepth: 256,
  /** Nested evaluations across constants defined through constants, blocks and expressions together. */
  evalDepth: 1000,
  /** Diagnostics listed for one spec; the rest are counted (SMC1007). */
  diagnostics: 100,
  /** Characters of a source line printed under a diagnostic (a window around the caret). */
  shownLineChars: 160,
  /** Characters of a compile-time string (`"a" + "b"` doubles a string per constant). */
  stringChars: 1 << 20,
  /** Levenshtein candidates tried for one "did you mean" hint, and the longest name it compares. */
  didYouMeanCandidates: 5000,
  didYouMeanLength: 100,

  // ---- tensors and the model (SMC3009, SMC3010) ----
  /** Elements of one tensor (an input, a parameter, any intermediate): 2^31, the most a WebGPU buffer binding or a
   *  JavaScript typed array index can address in f32. */
  tensorElements: 2 ** 31,
  /** Elements of a compile-time constant matrix (adaptive pooling, interpolation, causal masks), which the checker
   *  computes in f64 while building the graph: 2^26 (512 MiB). */
  constElements: 2 ** 26,
  /** Bytes of all parameters in f32 (training keeps 4 times that with Adam's moments and the gradient). */
  parameterBytes: 16 * GiB,
  /** Bytes of all tensors of the checked graph in f32 (before fusion and buffer reuse: an upper bound). */
  activationBytes: 256 * GiB,
  /** Nodes of the checked graph. */
  graphNodes: 500_000,
  /** Parameter tensors (each is a graph node; names are checked for uniqueness). */
  parameterTensors: 20_000,
  /** Block and layer instances (nested `repeat`s multiply). */
  instances: 100_000,
} as const;

/** `2,147,483,648` */
export const fmtCount = (n: number): string => (Number.isFinite(n) && Math.abs(n) < 1e21 ? Math.round(n).toLocaleString('en-US') : n.toExponential(3));

/** `16 GiB`, `1.5 MiB`, `812 bytes` */
export function fmtBytes(n: number): string {
  if (!Number.isFinite(n) || n >= 2 ** 70) return `${n.toExponential(3)} bytes`;
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, '')} ${units[u]}`;
}

/** Product of a shape, saturating at Infinity (never NaN for positive dimensions). */
export function elements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
