// runtime/data/index.ts — owns the public surface of runtime/data (re-exports) and `loadDataset`, which picks the reader for a path.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openChunked } from './chunked.js';
import { DataError } from './errors.js';
import { loadMmsaPickle, type LoadMmsaOptions } from './mmsa.js';
import type { Dataset } from './types.js';

export * from './types.js';
export * from './errors.js';
export { loadMmsaPickle, inspectMmsa, mmsaFromParsed, sha256File, knownMmsaSha256, replaceNegInf, MMSA_SHA256, MMSA_SHAPES } from './mmsa.js';
export type { LoadMmsaOptions, MmsaTextKey, MmsaSplitView } from './mmsa.js';
export { convertPickleToChunked, openChunked, ChunkedDataset, ChunkedSplit, CHUNKED_FORMAT, CHUNKED_VERSION } from './chunked.js';
export type { ChunkedManifest, ChunkedSplitManifest, ConvertOptions } from './chunked.js';
export { makeSyntheticDataset, SYNTHETIC_WEIGHTS } from './synthetic.js';
export type { SyntheticOptions, DegradationKind } from './synthetic.js';
export * from './missing.js';
export { MT19937, numpyUniform } from './mt19937.js';
export { iterateBatches, gatherRows, epochOrder, epochSeed, batchCount } from './batches.js';
export type { Batch, BatchOptions, BatchSource } from './batches.js';
export { parsePickleBytes, parsePickleSource, withPickleFile, NdArray, NpDtype, ndToFloat32, ndToFloat64, ndToNumbers, ndToStrings, ndStreamNumeric } from './pickle.js';

/**
 * Load a dataset from an MMSA pickle (`*.pkl`) or a directory made by convertPickleToChunked
 * (read fully into memory; for MOSEI prefer `openChunked(dir).split(s)` with iterateBatches).
 */
export function loadDataset(p: string, opts: LoadMmsaOptions = {}): Dataset {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    throw new DataError({ code: 'SMC6001', message: `cannot open ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, location: p });
  }
  if (st.isDirectory()) {
    if (!fs.existsSync(path.join(p, 'manifest.json'))) {
      const pkl = ['aligned_50.pkl', 'unaligned_50.pkl'].map((f) => path.join(p, 'Processed', f)).filter((f) => fs.existsSync(f));
      throw new DataError({
        code: 'SMC6020',
        message: `${p} is a directory without a chunked manifest`,
        location: p,
        hint: pkl.length ? `point at the pickle itself, e.g. ${pkl[0]}` : 'point at an MMSA pickle (e.g. MOSI/Processed/aligned_50.pkl) or a converted directory',
      });
    }
    const ds = openChunked(p);
    try {
      const all = ds.loadAll();
      const exp = opts.expect;
      if (exp) {
        for (const m of ['text', 'vision', 'audio'] as const) {
          const e = exp[m];
          const got = all.train[`${m}Shape`];
          if (e && (e[0] !== got[0] || e[1] !== got[1])) {
            throw new DataError({ code: 'SMC6013', message: `train.${m}: expected shape (${all.train.n}, ${e[0]}, ${e[1]}), found (${all.train.n}, ${got[0]}, ${got[1]})`, location: `${p}: train.${m}` });
          }
        }
      }
      return all;
    } finally {
      ds.close();
    }
  }
  return loadMmsaPickle(p, opts);
}
