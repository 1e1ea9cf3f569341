// Counter-based RNG shared by init (CPU) and the `rand` op (CPU interpreter and WGSL), bit-exact on both.
//
// Algorithm (all arithmetic on u32, wrapping; `*` is a 32-bit multiply, i.e. Math.imul / WGSL u32 `*`):
//
//   pcg(v)  : state = v * 747796405u + 2891336453u
//             word  = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u
//             return (word >> 22u) ^ word                      // PCG-RXS-M-XS 32 (Jarzynski & Olano 2020)
//   bits(seed, stream, index) = pcg(pcg(pcg(seed) ^ stream) ^ index)
//   uniform(seed, stream, index) = f32(bits >> 8u) * 2^-24    // exactly representable, in [0, 1)
//
// For a fixed (seed, stream), index ↦ bits is a bijection on u32 (pcg is a bijection), so no two elements of one
// tensor collide. A `rand` node with stream s and seed input value v fills element i (row-major) with
// uniform(u32(v), s, i); seeds are f32 values holding integers in [0, 2^24).
// Normal draws (init only, CPU only) use Box–Muller on the pair of indices (2i, 2i+1):
//   u1 = (f32(bits(2i) >> 8) + 1) * 2^-24 ∈ (0, 1],  u2 = uniform(2i+1),  z = sqrt(-2 ln u1) · cos(2π u2).

export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

export function rngBits(seed: number, stream: number, index: number): number {
  return pcgHash((pcgHash((pcgHash(seed >>> 0) ^ (stream >>> 0)) >>> 0) ^ (index >>> 0)) >>> 0);
}

const TWO_M24 = 2 ** -24;

export function rngUniform(seed: number, stream: number, index: number): number {
  return (rngBits(seed, stream, index) >>> 8) * TWO_M24;
}

export function rngNormal(seed: number, stream: number, index: number): number {
  const u1 = ((rngBits(seed, stream, 2 * index) >>> 8) + 1) * TWO_M24;
  const u2 = rngUniform(seed, stream, 2 * index + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** FNV-1a 32-bit hash of a string: the stream id of a named parameter, so init does not depend on order. */
export function streamOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
