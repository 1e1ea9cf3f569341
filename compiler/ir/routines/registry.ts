// The routine registry: each named routine's shape rule, reference semantics (f64/f32) and VJP rule in one record.
import { registerRoutineShape, type GraphBuilder, type Node, type RoutineShapeRule, type Shape } from '../graph.js';

export type RoutineParams = Record<string, number | boolean | string>;
export type Tensor = Float64Array | Float32Array;

export interface RoutineDef {
  name: string;
  shape: RoutineShapeRule;
  /** Reference semantics. Inputs hold the values as stored (f32-rounded when `f32`); the result is rounded by the caller. */
  evaluate(inputs: Tensor[], shapes: Shape[], params: RoutineParams, f32: boolean): Float64Array;
  /**
   * Gradient rule: given the node and the id of its output cotangent, add nodes to `g` and return one gradient
   * node id per input (undefined: no gradient to that input). Absent: the routine passes no gradient at all.
   */
  vjp?: (g: GraphBuilder, node: Node, dOut: number) => (number | undefined)[];
}

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
