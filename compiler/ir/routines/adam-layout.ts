// The optimizer arena's layout (shared by the `adam_update` routine, the train step and its GPU lowering).
import { ShapeError } from '../graph.js';
import type { RoutineParams } from './registry.js';

/**
 * Each parameter's region starts at a multiple of 64 elements (256 bytes, the largest storage-offset alignment
 * WebGPU allows), so the GPU lowering can bind a parameter inside the arena.
 */
export const ADAM_ALIGN = 64;

export interface AdamLayout {
  /** Start of each parameter inside a region. */
  offsets: number[];
  /** Region length (multiple of ADAM_ALIGN). */
  region: number;
  /** Packed output length. */
  size: number;
}

export function adamLayout(lengths: number[]): AdamLayout {
  const offsets: number[] = [];
  let region = 0;
  for (const n of lengths) {
    offsets.push(region);
    region += Math.ceil(n / ADAM_ALIGN) * ADAM_ALIGN;
  }
  return { offsets, region, size: 3 * region + Math.ceil((lengths.length + 1) / 4) * 4 };
}

export const count = (p: RoutineParams): number => {
  const n = p.params;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new ShapeError(`adam_update: params must be a positive integer, got ${String(n)}`);
  return n;
};

/** A comma-separated list of P numbers (String(x) round-trips exactly). */
export function numberList(p: RoutineParams, key: string): number[] {
  const v = String(p[key]).split(',').map(Number);
  if (v.length !== count(p) || v.some((x) => Number.isNaN(x))) throw new ShapeError(`adam_update: ${key} must list ${count(p)} numbers`);
  return v;
}
