// Sample points for walking the op table (test/ir/op-table.test.ts, test/gpu/op-table.test.ts): saturations,
// softplus's threshold (20), kinks approached from both sides; 'positive' for ops defined there.
import type { Domain } from '../../compiler/ops/index.js';

export const SAMPLES: Record<Domain, number[]> = {
  all: [-30, -21, -19.5, -7.25, -3, -1.7, -0.9, -0.31, -1e-3, 0, 2e-3, 0.27, 0.8, 1.6, 2.9, 6.5, 19.5, 21, 30],
  positive: [1e-3, 0.02, 0.3, 0.9, 1.7, 4.2, 19.5, 60],
};
