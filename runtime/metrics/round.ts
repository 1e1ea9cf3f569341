// runtime/metrics/round.ts — owns numpy-exact rounding (rint half-to-even, np.round(x, decimals) in float64 or float32) and numpy's float32 pairwise summation.

/** numpy rint: round half to even (0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> -0, -1.5 -> -2). */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const diff = x - f;
  const r = diff < 0.5 ? f : diff > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r; // numpy keeps the sign of zero
}

/**
 * np.round(x, decimals) for a numpy float64 (`float32 = false`) or float32 (`float32 = true`)
 * scalar: y = x * 10^d in that precision, rint, divide. Returns the double nearest the rounded
 * decimal (what `float(str(result))` gives in Python), e.g. 0.708 rather than float32(0.708).
 * Note: numpy's multiply-then-rint differs from Python's correctly-rounded `round(float, 4)` in
 * rare cases (round(np.float64(0.12345), 4) == 0.1234 but round(0.12345, 4) == 0.1235); MMSA's
 * values are numpy scalars, so this is the rule it uses.
 */
export function numpyRound(x: number, decimals = 0, float32 = false): number {
  if (!Number.isFinite(x)) return x;
  if (decimals === 0) return roundHalfEven(float32 ? Math.fround(x) : x);
  const f = 10 ** decimals;
  const y = float32 ? Math.fround(Math.fround(x) * f) : x * f;
  return roundHalfEven(y) / f;
}

/**
 * numpy's pairwise summation of a contiguous float32 array, accumulating in float32
 * (np.sum / np.mean on float32; numpy >= 2 sums the whole contiguous run pairwise, numpy 1.x
 * did so in 8192-element buffers; identical for n <= 8192).
 */
export function pairwiseSumF32(a: Float32Array, start = 0, n = a.length - start): number {
  const fr = Math.fround;
  if (n < 8) {
    let res = -0;
    for (let i = 0; i < n; i++) res = fr(res + a[start + i]!);
    return res;
  }
  if (n <= 128) {
    const r = [a[start]!, a[start + 1]!, a[start + 2]!, a[start + 3]!, a[start + 4]!, a[start + 5]!, a[start + 6]!, a[start + 7]!];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = fr(r[j]! + a[start + i + j]!);
    let res = fr(fr(fr(r[0]! + r[1]!) + fr(r[2]! + r[3]!)) + fr(fr(r[4]! + r[5]!) + fr(r[6]! + r[7]!)));
    for (; i < n; i++) res = fr(res + a[start + i]!);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return fr(pairwiseSumF32(a, start, n2) + pairwiseSumF32(a, start + n2, n - n2));
}

/** Same algorithm in float64 (np.sum on float64). */
export function pairwiseSumF64(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = -0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= 128) {
    const r = [a[start]!, a[start + 1]!, a[start + 2]!, a[start + 3]!, a[start + 4]!, a[start + 5]!, a[start + 6]!, a[start + 7]!];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j]! += a[start + i + j]!;
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSumF64(a, start, n2) + pairwiseSumF64(a, start + n2, n - n2);
}
