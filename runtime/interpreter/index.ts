// Reference interpreter: public entry points.
export { evaluate, run, InterpreterError, type DType, type EvaluateOptions, type Feeds } from './evaluate.js';
