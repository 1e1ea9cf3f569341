// The routine registry: each named routine's shape rule, reference semantics (f64/f32), VJP rule, GPU lowering and
// what that lowering needs of its inputs' memory, in one record.
import { registerRoutineShape, type Graph, type GraphBuilder, type Node, type RoutineShapeRule, type Shape } from '../graph.js';
import type { BufferDecl, Kernel } from '../../kernels/ir.js';
import type { ProgramTensor } from '../../kernels/plan.js';
import type { View } from '../../passes/views.js';

export type RoutineParams = Record<string, number | boolean | string>;
export type Tensor = Float64Array | Float32Array;

/** What a routine's GPU lowering gets: the node, its inputs' buffer views, and the program it appends kernels to. */
export interface RoutineLowering {
  graph: Graph;
  node: Node;
  /** Buffer views by node id; every input's view meets the routine's `needs`. */
  views: (View | undefined)[];
  /** The program's tensors so far (a lowering may place tensors inside its output: `alias`, `role`). */
  tensors: ProgramTensor[];
  /** Tensor name of a node's value; the routine writes `tensorName(node.id)`, contiguous, the node's shape. */
  tensorName(id: number): string;
  decl(tensor: string): BufferDecl;
  addTensor(t: ProgramTensor): string;
  /** Appends a kernel; `done`: the graph nodes complete once it has run (the node itself, on its last kernel). */
  emit(k: Kernel, done?: number[]): void;
  /** Kernel label: `scope/what#id`. */
  label(what: string): string;
  /** A temporary tensor `<output>.<suffix>` of `size` f32 elements (its name). */
  temp(suffix: string, size: number): string;
}

/** What a lowering needs of an input's memory; fusion materialises or copies the input to meet it. */
export type InputNeed =
  /** A tensor of its own, row-major from offset 0. */
  | 'contiguous'
  /** Any strided view of a buffer. */
  | 'view'
  /** A strided view whose strides pass the test (else a copy of its own). */
  | { view: (strides: readonly number[], shape: readonly number[]) => boolean }
  /** A parameter or input of its own, which the lowering places inside the routine's output and updates in place. */
  | 'in-place';

export interface RoutineDef {
  name: string;
  shape: RoutineShapeRule;
  /** Reference semantics. Inputs hold the values as stored (f32-rounded when `f32`); the result is rounded by the caller. */
  evaluate(inputs: Tensor[], shapes: Shape[], params: RoutineParams, f32: boolean): Float64Array;
  /**
   * Gradient rule: given the node and the id of its output cotangent, add nodes to `g` and return one gradient
   * node id per input (undefined: no gradient to that input). 'none': the routine passes no gradient at all.
   */
  vjp: ((g: GraphBuilder, node: Node, dOut: number) => (number | undefined)[]) | 'none';
  /** Inputs that never get a gradient (gather's ids): autodiff does not look for gradients through them. */
  noGradient?: readonly number[];
  /** GPU lowering: kernels computing the node's value; `{ none }` says why a routine has none (error SMC4103). */
  lower: ((cx: RoutineLowering) => void) | { none: string };
  /**
   * Inputs whose axis 0 is the batch that the output's axis 0 follows: output row b depends on row b of these
   * inputs only (and on the other inputs, which must not carry the batch). Absent: the routine may mix samples.
   * Sample routing (compiler/passes/route-samples.ts) runs such a routine on compacted samples.
   */
  batchRows?: readonly number[] | ((params: RoutineParams) => readonly number[]);
  /** What the lowering needs of input k (one need for all inputs, or per input). */
  needs: InputNeed | ((k: number, params: RoutineParams) => InputNeed);
}

/** The inputs a routine node reads row by row along the batch (RoutineDef.batchRows), if it declares them. */
export const batchRowsOf = (def: RoutineDef, params: RoutineParams): readonly number[] | undefined =>
  typeof def.batchRows === 'function' ? def.batchRows(params) : def.batchRows;

/** The need of input k of a routine node. */
export const inputNeed = (def: RoutineDef, k: number, params: RoutineParams): InputNeed =>
  typeof def.needs === 'function' ? def.needs(k, params) : def.needs;

const routines = new Map<string, RoutineDef>();

export function registerRoutine(def: RoutineDef): void {
  routines.set(def.name, def);
  registerRoutineShape(def.name, def.shape);
}

export function getRoutine(name: string): RoutineDef {
  const r = routines.get(name);
  if (!r) throw new Error(`unknown routine \`${name}\``);
  return r;
}

export function routineNames(): string[] {
  return [...routines.keys()];
}
