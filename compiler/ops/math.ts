// Scalar f64 functions several records of the op table share: the project's one erf, and sigmoid.

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf to ~1.5e-15 (absolute, against math.erf over [-6, 6]): the everywhere-positive series erf x = 2/√π e^{-x²} Σ 2^n x^{2n+1} / (2n+1)!!. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  let term = ax;
  let sum = ax;
  const x2 = ax * ax;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  const r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  return x < 0 ? -r : r;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
