// The interpreter for a bundle's spec: compiles it (graphs are what the interpreter evaluates) and returns the
// reference backend. Kept apart so that a bundle's GPU path loads nothing of the compiler.
import { compileModel } from '../../compiler/compile.js';
import { ReferenceBackend } from '../backends/reference.js';

export function referenceBackendForSpec(spec: string, overrides: string[]): ReferenceBackend {
  return new ReferenceBackend(compileModel(spec, { overrides }));
}
