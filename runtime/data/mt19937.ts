// runtime/data/mt19937.ts — owns a bit-exact port of numpy's legacy RandomState MT19937 (seed, random_sample/uniform, random_interval, shuffle/permutation, legacy gauss).
//
// Matches `np.random.seed(s); np.random.uniform(size=...)` bit for bit (tested against committed
// numpy output), which is what TFR-Net / MMSA / EMT-DLFR use for their frame-missing masks.
// `permutation`/`shuffle` reproduce `np.random.RandomState(s).permutation(n)`. `gauss` follows
// numpy's legacy polar method; it relies on Math.log/Math.sqrt, so it is algorithm-compatible but
// not guaranteed bit-exact across libms.

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private mti = N + 1;
  private hasGauss = false;
  private gaussValue = 0;

  constructor(seed = 5489) {
    this.seed(seed);
  }

  /** numpy legacy seeding for an integer seed in [0, 2^32 - 1] (mt19937_seed == init_genrand). */
  seed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError('Seed must be between 0 and 2**32 - 1');
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev + i, mod 2^32, without losing precision
      mt[i] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i) >>> 0;
    }
    this.mti = N;
    this.hasGauss = false;
    this.gaussValue = 0;
  }

  private twist(): void {
    const mt = this.mt;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (mt[kk]! & UPPER) | (mt[kk + 1]! & LOWER);
      mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk]! & UPPER) | (mt[kk + 1]! & LOWER);
      mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (mt[N - 1]! & UPPER) | (mt[0]! & LOWER);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.mti = 0;
  }

  /** Next 32-bit output (genrand_int32). */
  nextUint32(): number {
    if (this.mti >= N) this.twist();
    let y = this.mt[this.mti++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy random_sample: 53-bit double in [0, 1) (genrand_res53). */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /** numpy legacy uniform(low, high): low + (high - low) * random_sample(). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.randomSample();
  }

  /** `count` draws of uniform(low, high) in numpy's (row-major) order. */
  uniformArray(count: number, low = 0, high = 1): Float64Array {
    const out = new Float64Array(count);
    const range = high - low;
    for (let i = 0; i < count; i++) out[i] = low + range * this.randomSample();
    return out;
  }

  /** numpy random_interval(max): uniform integer in [0, max] by masked rejection (max < 2^32). */
  interval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new RangeError('interval max must be < 2^32');
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    while ((v = (this.nextUint32() & mask) >>> 0) > max);
    return v;
  }

  /** In-place Fisher-Yates exactly as numpy's legacy RandomState.shuffle for 1-d input. */
  shuffle<T>(a: T[] | Int32Array | Uint32Array | Float32Array | Float64Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t as never;
    }
  }

  /** np.random.RandomState(seed).permutation(n). */
  permutation(n: number): Int32Array {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    this.shuffle(a);
    return a;
  }

  /** numpy legacy_gauss (polar Box-Muller, caches the second value). */
  gauss(): number {
    if (this.hasGauss) {
      this.hasGauss = false;
      return this.gaussValue;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2.0 * this.randomSample() - 1.0;
      x2 = 2.0 * this.randomSample() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 === 0.0);
    const f = Math.sqrt((-2.0 * Math.log(r2)) / r2);
    this.gaussValue = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /** normal(loc, scale) with the legacy gauss. */
  normal(loc = 0, scale = 1): number {
    return loc + scale * this.gauss();
  }
}

/** Convenience: `np.random.seed(seed); np.random.uniform(size=count)`. */
export function numpyUniform(seed: number, count: number): Float64Array {
  return new MT19937(seed).uniformArray(count);
}
