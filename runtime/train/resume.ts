// The resume protocol: a run folder continues exactly as it was started — its spec copy, overrides, seeds, data,
// limits and backend come from run.json, and nothing that would change the run may be given again.

import { join } from 'node:path';
import { readRunManifest } from './run.js';
import type { InitRecord } from './pretrained.js';

export class ResumeRefused extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export interface ResumePlan {
  spec: string;
  overrides: string[];
  seeds: number[];
  /** undefined: the built-in synthetic data. */
  data?: string;
  maxEpochs?: number;
  maxSteps?: number;
  /** The backend the run trained on (absent in runs from before it was recorded). */
  backend?: 'gpu' | 'reference';
  /** Pretrained weights the run started from (loaded again, and checked against the recorded hash). */
  init: InitRecord[];
}

/** What a resumed run continues with; `given` names the options that would change it (refused). */
export function planResume(dir: string, given: string[], limits: { maxEpochs?: number; maxSteps?: number } = {}): ResumePlan {
  const man = readRunManifest(dir);
  if (!man) throw new ResumeRefused(`${dir} is not a run folder (no run.json)`, 'pass the folder that `smcirc train` printed');
  if (given.length) {
    throw new ResumeRefused(`--resume continues a run exactly as it was started (${given.join(', ')} given)`, 'drop the spec, --set, --data and seed options; to change them, start a new run');
  }
  return {
    spec: join(dir, man.spec),
    overrides: man.overrides,
    seeds: man.seeds,
    data: man.data === 'synthetic' ? undefined : man.data,
    maxEpochs: limits.maxEpochs ?? man.max_epochs,
    maxSteps: limits.maxSteps ?? man.max_steps,
    backend: man.backend === 'gpu' || man.backend === 'reference' ? man.backend : undefined,
    init: man.init ?? [],
  };
}
