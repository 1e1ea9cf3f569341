// All routines, registered on import: import this module before building or running graphs that use them.
import './lstm.js';
import './histogram.js';
import './adam.js';
import './gather.js';

export {
  getRoutine, inputNeed, registerRoutine, routineNames,
  type InputNeed, type RoutineDef, type RoutineLowering, type RoutineParams, type Tensor,
} from './registry.js';
export { histogramCounts, histogramIndices, mutualInfoScore, countsEntropy, numpySum } from './histogram.js';
export { adamLayout, numberList } from './adam.js';
