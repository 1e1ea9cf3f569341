// runtime/metrics/index.ts — owns the public surface of runtime/metrics (re-exports).
export { mmsaRegressionMetrics, mmsaRegressionMetricsRaw, weightedF1Binary, pearson, aggregateSeeds } from './mmsa-metrics.js';
export type { MmsaRegressionMetrics, MmsaRegressionMetricsRaw } from './mmsa-metrics.js';
export { roundHalfEven, numpyRound, pairwiseSumF32, pairwiseSumF64 } from './round.js';
