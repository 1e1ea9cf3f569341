// Tolerance comparison for golden tests: |a − r| ≤ atol + rtol·|r|, reporting the worst element.
export interface Tol {
  rtol: number;
  atol: number;
}

export const FORWARD: Tol = { rtol: 1e-4, atol: 1e-5 };
export const GRAD: Tol = { rtol: 1e-3, atol: 1e-5 };

export function mismatch(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, tol: Tol): string | undefined {
  if (got.length !== ref.length) return `${name}: ${got.length} values, golden has ${ref.length}`;
  let worst = -1, wi = -1;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    const e = d === 0 ? 0 : d / (tol.atol + tol.rtol * Math.abs(ref[i]!));
    if (!(e <= worst)) { worst = e; wi = i; }
  }
  if (worst > 1 || Number.isNaN(worst)) return `${name}[${wi}]: got ${got[wi]}, golden ${ref[wi]} (${worst.toFixed(2)}× tolerance)`;
  return undefined;
}
