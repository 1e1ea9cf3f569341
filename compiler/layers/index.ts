// The layer library: plain functions (g, ...inputs, opts) → node id, built from primitives and routines.
export { stepSeed, type ParamOpts } from './common.js';
export { linear, layerNorm, conv1d, softmax, logSoftmax, dropout, maxOverTime, meanOverTime } from './basic.js';
export type { LinearOpts, LayerNormOpts, Conv1dOpts, DropoutOpts } from './basic.js';
export { adaptiveAvgPoolTime, interpolateTime, adaptivePoolMatrix, interpolationMatrix } from './time.js';
export { lstm, type LstmOpts } from './lstm.js';
export { multiheadAttention, causalMask, type MhaOpts } from './attention.js';
export { transformerEncoder, type TransformerEncoderOpts } from './transformer.js';
export { msse, type MsseOpts } from './msse.js';
export {
  histEntropy, countMI, jointHistMI, allPairsCosine, softmaxNormEntropy, diagCosine, normalizeRows,
  batchMean, batchStd, dmfdScore, dmfdMissing, dmfdStatus,
} from './dmfd.js';
export { l1Loss, mseLoss, simseLoss } from './losses.js';
export { embedding, gather, type EmbeddingOpts } from './embedding.js';
