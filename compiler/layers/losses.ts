// Losses (reference §7): L1 (task), MSE, SIMSE = (Σ(r − p))² / n².
import { numel, type GraphBuilder } from '../ir/graph.js';

const all = (g: GraphBuilder, x: number): number[] => g.shape(x).map((_, i) => i);

export function l1Loss(g: GraphBuilder, pred: number, target: number): number {
  const d = g.unary('abs', g.sub(pred, target));
  return g.mean(d, all(g, d));
}

export function mseLoss(g: GraphBuilder, pred: number, target: number): number {
  const d = g.unary('square', g.sub(pred, target));
  return g.mean(d, all(g, d));
}

export function simseLoss(g: GraphBuilder, pred: number, ref: number): number {
  const d = g.sub(ref, pred);
  const n = numel(g.shape(d));
  return g.mul(g.unary('square', g.sum(d, all(g, d))), g.scalar(1 / (n * n)));
}
