// The elaborator: evaluates a loaded Program — constants, block instances, forward bodies — into a tensor graph,
// checking names, arities, types and shapes on the way, and reporting each problem at its source line.

import type * as A from '../../grammar/ast.js';
import { diag, didYouMean, DiagnosticError, fail, type Diagnostic, type Span } from '../../grammar/diagnostics.js';
import { fmtShape, GraphBuilder, ShapeError, type Attrs, type Graph, type InitSpec, type SourceSpan } from '../ir/graph.js';
import { elements, fmtBytes, fmtCount, LIMITS } from './limits.js';
import { bindArgs, FUNCTIONS, INITS, LAYERS, type Args, type BuildContext } from './builtins.js';
import type { BlockDecl, Program } from './load.js';
import { asDim, asInt, asNumber, asShape, describe, num, tensor, toPlain, type Instance, type Value } from './values.js';
import { scoreOutput, SEED_INPUT, statInput } from '../../runtime/abi/names.js';

export interface ElaborateOptions {
  /** Value of the batch dimension (the one `dim` without a value). */
  batch: number;
  training: boolean;
  /** DMFD statistics: over the batch (released code) or fed from population statistics. */
  dmfdStats?: 'batch' | 'population';
  /** Build the loss from the `train` section. */
  withLoss?: boolean;
}

/** A batch statistic site: in population mode its value is the input `input`, and `score` is output for pass 1. */
export interface StatSite {
  kind: 'mean' | 'std';
  /** The block that computes it (e.g. `dmfd.rule_v`): names the score in reports and diagnostics. */
  label: string;
  input: string;
  score: string;
}

export interface Elaborated {
  graph: Graph;
  /** The model's `output` names → node ids (also in graph.outputs). */
  outputs: Map<string, number>;
  loss?: number;
  /** Top-level instances of the model with the parameters they own. */
  instances: { name: string; block: string; path: string }[];
  stats: StatSite[];
  /** Every constant's value after imports and overrides (numbers, strings, booleans, lists), by name. */
  constants: Record<string, unknown>;
  diagnostics: Diagnostic[];
}

interface Binding {
  value: Value;
  span: Span;
  used: boolean;
  kind: 'let' | 'param' | 'member' | 'arg';
}

/** Thrown when a value that already failed (and was reported) is used again: no second diagnostic. */
class Poisoned extends Error {}

/** What an instance is, for messages and `check`'s member table: the block or layer name. */
function instanceKind(inst: Instance): string {
  if (inst.kind === 'user') return inst.decl.name.name;
  if (inst.kind === 'layer') return inst.layer;
  return `repeat × ${inst.items.length} ${inst.items[0] ? instanceKind(inst.items[0]) : ''}`.trim();
}

class Scope {
  readonly vars = new Map<string, Binding>();
  constructor(readonly parent?: Scope) {}
  lookup(name: string): Binding | undefined {
    return this.vars.get(name) ?? this.parent?.lookup(name);
  }
  names(): string[] {
    return [...this.vars.keys(), ...(this.parent?.names() ?? [])];
  }
}

/** GraphBuilder that shares a parameter when an instance is called again, and honours `frozen` members; every node it
 *  adds is checked against LIMITS (per-tensor elements, total parameter and activation bytes, node count) before it
 *  joins the graph. */
class ElabBuilder extends GraphBuilder {
  frozenDepth = 0;
  private paramElements = 0;
  private allElements = 0;
  private readonly paramIndex = new Map<string, number>();

  constructor() {
    super();
    // GraphBuilder adds every node through its one private `add`: wrap it, so that no way of making a node escapes.
    const self = this as unknown as { add(attrs: Attrs, inputs: number[], shape: number[]): number };
    if (typeof self.add !== 'function') throw new Error('GraphBuilder.add is gone: the elaborator cannot bound the graph');
    const add = self.add.bind(this);
    self.add = (attrs, inputs, shape) => {
      this.admit(attrs, shape);
      return add(attrs, inputs, shape);
    };
  }

  private where(): Span | undefined {
    const s = this.span;
    return s ? { file: s.file, line: s.line, column: s.column } : undefined;
  }

  private what(attrs: Attrs): string {
    const a = attrs as { op: string; name?: string };
    const scope = this.scope ? ` in \`${this.scope}\`` : '';
    if (a.op === 'input') return `input \`${a.name}\``;
    if (a.op === 'param') return `parameter \`${a.name}\``;
    return `the result of \`${a.op}\`${scope}`;
  }

  private admit(attrs: Attrs, shape: readonly number[]): void {
    const n = elements(shape);
    if (!(n <= LIMITS.tensorElements)) {
      fail('SMC3009', `${this.what(attrs)} would have shape ${fmtShape(shape)}: ${fmtCount(n)} elements, more than the ${fmtCount(LIMITS.tensorElements)} (2^31) a tensor may have`, this.where(), 'check the sizes (constants, `--set` values, the batch size); the limits are in compiler/check/limits.ts');
    }
    if (this.nodes.length >= LIMITS.graphNodes) {
      fail('SMC3010', `the model's graph has more than ${fmtCount(LIMITS.graphNodes)} nodes (${this.what(attrs)} would be the next)`, this.where(), 'fewer layers, repeats or block calls; each call of a block adds its whole forward to the graph');
    }
    if ((attrs as { op: string }).op === 'param') {
      if (this.params.length >= LIMITS.parameterTensors) {
        fail('SMC3010', `the model has more than ${fmtCount(LIMITS.parameterTensors)} parameter tensors (${this.what(attrs)} would be the next)`, this.where(), 'fewer layers, repeats or `param` members');
      }
      if ((this.paramElements + n) * 4 > LIMITS.parameterBytes) {
        fail('SMC3010', `the parameters would take ${fmtBytes((this.paramElements + n) * 4)} in f32 with ${this.what(attrs)} (shape ${fmtShape(shape)}), more than the ${fmtBytes(LIMITS.parameterBytes)} allowed`, this.where(), 'lower the widths or depths (`--set`)');
      }
      this.paramElements += n;
    }
    if ((this.allElements + n) * 4 > LIMITS.activationBytes) {
      fail('SMC3010', `the graph's tensors would take ${fmtBytes((this.allElements + n) * 4)} in f32 with ${this.what(attrs)} (shape ${fmtShape(shape)}), more than the ${fmtBytes(LIMITS.activationBytes)} allowed`, this.where(), 'lower the batch size (`--set train.batch_size=...`), the sequence lengths or the widths');
    }
    this.allElements += n;
  }

  override param(localName: string, shape: readonly number[], init: InitSpec, opts: { frozen?: boolean; group?: string } = {}): number {
    const name = this.scope ? `${this.scope}.${localName}` : localName;
    const prev = this.paramIndex.get(name);
    if (prev !== undefined) return prev;
    const id = super.param(localName, shape, init, { ...opts, frozen: (opts.frozen ?? false) || this.frozenDepth > 0 });
    this.paramIndex.set(name, id);
    return id;
  }
}

const toSourceSpan = (s: Span): SourceSpan => ({ file: s.file, line: s.line, column: s.column });

export class Elaborator {
  readonly g = new ElabBuilder();
  readonly diagnostics: Diagnostic[] = [];
  private readonly constCache = new Map<string, Value>();
  private readonly constBusy = new Set<string>();
  private readonly inputIds = new Map<string, number>();
  private seedId: number | undefined;
  private readonly stats: StatSite[] = [];
  private modelOutputs = new Map<string, number>();
  private callDepth = 0;
  private evalDepth = 0;
  private instanceCount = 0;
  private readonly callStack: string[] = [];
  private readonly usedMembers = new Set<Instance>();
  private readonly poisoned = new Set<Binding>();
  /** Each user instance's scope: its block parameters and members, the parent scope of its forward. */
  private readonly instanceScopes = new WeakMap<Instance, Scope>();

  constructor(
    readonly program: Program,
    readonly opts: ElaborateOptions,
  ) {}

  warn(code: Parameters<typeof diag>[0], message: string, span: Span, hint?: string): void {
    this.diagnostics.push(diag(code, message, span, hint, 'warning'));
  }

  /** Runs `fn`, turning a checker failure into a diagnostic; returns undefined on failure. */
  guard<T>(fn: () => T, span: Span): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof Poisoned)) this.diagnostics.push(this.toDiagnostic(e, span));
      return undefined;
    }
  }

  private toDiagnostic(e: unknown, span: Span): Diagnostic {
    if (e instanceof DiagnosticError) return e.diagnostic;
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      return diag('SMC1006', 'the spec nests too deeply for the checker here (constants, blocks or expressions inside each other)', span, 'flatten it: fewer constants defined through other constants, shallower expressions');
    }
    if (e instanceof ShapeError) {
      const where = this.callStack.filter((c) => !c.startsWith('new '));
      return diag('SMC3001', e.message, span, where.length ? `in ${where.join(' → ')}` : undefined);
    }
    // Anything else is a bug in smcirc, not in the spec: say so, so that it is reported (and fuzzing finds it).
    const msg = e instanceof Error ? e.message : String(e);
    return diag('SMC3004', `internal error while checking: ${msg}`, span, 'please report this with the spec that caused it');
  }

  // ---------------- globals ----------------

  constValue(name: string, span: Span): Value {
    const hit = this.constCache.get(name);
    if (hit) return hit;
    const decl = this.program.consts.get(name)!;
    if (this.constBusy.has(name)) fail('SMC3004', `constant \`${name}\` is defined in terms of itself`, span, 'break the cycle between these constants');
    this.constBusy.add(name);
    try {
      const v = this.eval(decl.value, new Scope());
      if (v.t === 'tensor' || v.t === 'instance') fail('SMC3002', `constant \`${name}\` must be a compile-time value, got ${describe(v)}`, decl.value.span);
      this.constCache.set(name, v);
      return v;
    } finally {
      this.constBusy.delete(name);
    }
  }

  private lookupGlobal(name: string, span: Span): Value | undefined {
    if (this.program.consts.has(name)) return this.constValue(name, span);
    const dim = this.program.dims.get(name);
    if (dim) return dim.value ? num(asDim(this.eval(dim.value, new Scope()), `dimension \`${name}\``, dim.value.span)) : num(this.opts.batch);
    const input = this.inputIds.get(name);
    if (input !== undefined) return tensor(input);
    const block = this.program.blocks.get(name);
    if (block) return { t: 'block', decl: block };
    if (LAYERS[name]) return { t: 'layer', name };
    if (FUNCTIONS[name]) return { t: 'fn', name };
    return undefined;
  }

  private globalNames(): string[] {
    return [...this.program.consts.keys(), ...this.program.dims.keys(), ...this.inputIds.keys(), ...this.program.blocks.keys(), ...Object.keys(LAYERS), ...Object.keys(FUNCTIONS)];
  }

  // ---------------- expressions ----------------

  /** Evaluates a compile-time expression (a setting, a default) in the global scope. */
  evalGlobal(e: A.Expr): Value {
    return this.eval(e, new Scope());
  }

  eval(e: A.Expr, scope: Scope): Value {
    if (this.evalDepth >= LIMITS.evalDepth) {
      fail('SMC1006', `evaluation nests more than ${fmtCount(LIMITS.evalDepth)} deep here (constants defined through constants, blocks and expressions inside each other)`, e.span, 'flatten it: define fewer constants in terms of other constants, or split long expressions');
    }
    this.evalDepth++;
    try {
      return this.evalNode(e, scope);
    } finally {
      this.evalDepth--;
    }
  }

  private evalNode(e: A.Expr, scope: Scope): Value {
    this.g.span = toSourceSpan(e.span);
    switch (e.kind) {
      case 'num':
        return num(e.value);
      case 'str':
        return { t: 'str', v: e.value };
      case 'bool':
        return { t: 'bool', v: e.value };
      case 'list':
        return { t: 'list', items: e.items.map((x) => this.eval(x, scope)) };
      case 'tuple':
        return { t: 'tuple', items: e.items.map((x) => this.eval(x, scope)) };
      case 'name':
        return this.name(e.name, e.span, scope);
      case 'unary':
        return this.unary(e.op, this.eval(e.operand, scope), e.span);
      case 'binary':
        return this.binary(e.op, this.eval(e.left, scope), this.eval(e.right, scope), e.span);
      case 'if': {
        const c = this.eval(e.cond, scope);
        if (c.t === 'tensor') fail('SMC3002', '`if` needs a compile-time condition; for per-sample selection use `where(mask, a, b)`', e.cond.span);
        const truth = c.t === 'bool' ? c.v : asNumber(c, 'the condition', e.cond.span) !== 0;
        return this.eval(truth ? e.then : e.else, scope);
      }
      case 'member':
        return this.member(this.eval(e.object, scope), e.name, e.span);
      case 'index':
        return this.index(this.eval(e.object, scope), e.indices, scope, e.span);
      case 'call':
        return this.call(e, scope);
    }
  }

  private name(name: string, span: Span, scope: Scope): Value {
    if (name === '<missing>') fail('SMC1004', 'something is missing here', span);
    const b = scope.lookup(name);
    if (b) {
      b.used = true;
      if (this.poisoned.has(b)) throw new Poisoned();
      return b.value;
    }
    const g = this.lookupGlobal(name, span);
    if (g) return g;
    const hint = didYouMean(name, [...scope.names(), ...this.globalNames()]);
    return fail('SMC2001', `unknown name \`${name}\``, span, hint ?? 'declare it with `const`, `let`, an input, or a block member');
  }

  private promote(v: Value, span: Span): number {
    if (v.t === 'tensor') return v.id;
    if (v.t === 'num') return this.g.scalar(v.v);
    if (v.t === 'bool') return this.g.scalar(v.v ? 1 : 0);
    return fail('SMC3002', `expected a tensor or a number, got ${describe(v, (i) => this.g.shape(i))}`, span);
  }

  private unary(op: '-' | 'not', v: Value, span: Span): Value {
    if (op === '-') {
      if (v.t === 'num') return num(-v.v);
      return tensor(this.g.unary('neg', this.promote(v, span)));
    }
    if (v.t === 'bool') return { t: 'bool', v: !v.v };
    if (v.t === 'num') return { t: 'bool', v: v.v === 0 };
    return tensor(this.g.binary('eq', this.promote(v, span), this.g.scalar(0)));
  }

  private binary(op: A.BinaryOperator, l: Value, r: Value, span: Span): Value {
    const scalarL = l.t === 'num' || l.t === 'bool';
    const scalarR = r.t === 'num' || r.t === 'bool';
    if (l.t === 'str' || r.t === 'str') {
      if (l.t === 'str' && r.t === 'str') {
        if (op === '==') return { t: 'bool', v: l.v === r.v };
        if (op === '!=') return { t: 'bool', v: l.v !== r.v };
        if (op === '+') {
          if (l.v.length + r.v.length > LIMITS.stringChars) fail('SMC3009', `this string would have ${fmtCount(l.v.length + r.v.length)} characters, more than the ${fmtCount(LIMITS.stringChars)} allowed`, span);
          return { t: 'str', v: l.v + r.v };
        }
      }
      fail('SMC3002', `\`${op}\` cannot combine ${describe(l)} and ${describe(r)}`, span);
    }
    if (scalarL && scalarR) return this.foldScalar(op, l, r, span);
    const a = this.promote(l, span);
    const b = this.promote(r, span);
    const g = this.g;
    switch (op) {
      case '+': return tensor(g.add2(a, b));
      case '-': return tensor(g.sub(a, b));
      case '*': return tensor(g.mul(a, b));
      case '/': return tensor(g.div(a, b));
      case '@': return tensor(g.matmul(a, b));
      case '**':
        if (r.t === 'num' && r.v === 2) return tensor(g.unary('square', a));
        return tensor(g.binary('pow', a, b));
      case '<': return tensor(g.binary('lt', a, b));
      case '<=': return tensor(g.binary('le', a, b));
      case '>': return tensor(g.binary('gt', a, b));
      case '>=': return tensor(g.binary('ge', a, b));
      case '==': return tensor(g.binary('eq', a, b));
      case '!=': return tensor(g.binary('ne', a, b));
      case 'and': return tensor(g.mul(g.binary('ne', a, g.scalar(0)), g.binary('ne', b, g.scalar(0))));
      case 'or': return tensor(g.binary('max', g.binary('ne', a, g.scalar(0)), g.binary('ne', b, g.scalar(0))));
      case '//':
      case '%':
        return fail('SMC3002', `\`${op}\` works on numbers only, not tensors`, span);
    }
  }

  private foldScalar(op: A.BinaryOperator, l: Value, r: Value, span: Span): Value {
    const a = l.t === 'bool' ? Number(l.v) : (l as { v: number }).v;
    const b = r.t === 'bool' ? Number(r.v) : (r as { v: number }).v;
    switch (op) {
      case '+': return num(a + b);
      case '-': return num(a - b);
      case '*': return num(a * b);
      case '/':
        if (b === 0) fail('SMC3005', 'division by zero', span);
        return num(a / b);
      case '//':
        if (b === 0) fail('SMC3005', 'division by zero', span);
        return num(Math.floor(a / b));
      case '%':
        if (b === 0) fail('SMC3005', 'division by zero', span);
        return num(a - b * Math.floor(a / b));
      case '**': return num(a ** b);
      case '@': return fail('SMC3002', '`@` multiplies tensors, not numbers', span);
      case '<': return { t: 'bool', v: a < b };
      case '<=': return { t: 'bool', v: a <= b };
      case '>': return { t: 'bool', v: a > b };
      case '>=': return { t: 'bool', v: a >= b };
      case '==': return { t: 'bool', v: a === b };
      case '!=': return { t: 'bool', v: a !== b };
      case 'and': return { t: 'bool', v: a !== 0 && b !== 0 };
      case 'or': return { t: 'bool', v: a !== 0 || b !== 0 };
    }
  }

  private member(obj: Value, name: string, span: Span): Value {
    if (obj.t === 'instance' && obj.inst.kind === 'user') {
      const m = obj.inst.members.get(name);
      if (m) return m;
      return fail('SMC2001', `\`${obj.inst.path}\` has no member \`${name}\``, span, didYouMean(name, obj.inst.members.keys()));
    }
    return fail('SMC3002', `cannot take \`.${name}\` of ${describe(obj, (i) => this.g.shape(i))}`, span);
  }

  private index(obj: Value, indices: A.Index[], scope: Scope, span: Span): Value {
    if (obj.t === 'list' || obj.t === 'tuple') {
      if (indices.length !== 1 || indices[0]!.kind !== 'at') fail('SMC3002', 'lists take one index', span);
      const i = asInt(this.eval((indices[0] as { value: A.Expr }).value, scope), 'the index', span);
      const item = obj.items[i < 0 ? i + obj.items.length : i];
      if (!item) fail('SMC3006', `index ${i} is out of range for ${describe(obj)}`, span);
      return item;
    }
    if (obj.t !== 'tensor') return fail('SMC3002', `cannot index ${describe(obj)}`, span);
    let x = obj.id;
    const shape = this.g.shape(x);
    if (indices.length > shape.length) fail('SMC3006', `${indices.length} indices for a tensor of shape ${fmtShape(shape)}`, span);
    const drop: number[] = [];
    indices.forEach((ix, axis) => {
      const len = shape[axis]!;
      const bound = (e: A.Expr | undefined, dflt: number): number => {
        if (!e) return dflt;
        const v = asInt(this.eval(e, scope), 'an index', e.span);
        return v < 0 ? v + len : v;
      };
      if (ix.kind === 'at') {
        const i = bound(ix.value, 0);
        if (i < 0 || i >= len) fail('SMC3006', `index ${i} is out of range for axis ${axis} of length ${len}`, span);
        x = this.g.slice(x, axis, i, i + 1);
        drop.push(axis);
      } else {
        const s = bound(ix.start, 0);
        const t = bound(ix.end, len);
        if (s < 0 || t > len || s >= t) fail('SMC3006', `range ${s}:${t} is out of range for axis ${axis} of length ${len}`, span);
        x = this.g.slice(x, axis, s, t);
      }
    });
    if (drop.length) x = this.g.reshape(x, this.g.shape(x).filter((_, i) => !drop.includes(i)));
    return tensor(x);
  }

  private evalArgs(args: A.Arg[], scope: Scope) {
    const positional: { value: Value; span: Span }[] = [];
    const named: { name: string; value: Value; span: Span }[] = [];
    for (const a of args) {
      const value = this.eval(a.value, scope);
      if (a.name) named.push({ name: a.name, value, span: a.span });
      else {
        if (named.length) fail('SMC2004', 'positional arguments must come before keyword arguments', a.span);
        positional.push({ value, span: a.span });
      }
    }
    return { positional, named };
  }

  private bind(what: string, specs: Parameters<typeof bindArgs>[1], args: ReturnType<Elaborator['evalArgs']>, span: Span): Args {
    const bound = bindArgs(what, specs, args.positional, args.named, span, (i) => this.g.shape(i), (n, o) => didYouMean(n, o));
    for (const s of specs) {
      const v = bound.get(s.name);
      if (s.type === 'tensor' && v && v.t === 'num') bound.set(s.name, tensor(this.g.scalar(v.v)));
    }
    return bound;
  }

  private context(span: Span): BuildContext {
    return {
      g: this.g,
      training: this.opts.training,
      span,
      seed: () => {
        if (this.seedId === undefined) this.seedId = this.g.atScope('', () => this.g.input(SEED_INPUT, []));
        return this.seedId;
      },
      batchStat: (kind, x) => this.batchStat(kind, x, span),
    };
  }

  private batchStat(kind: 'mean' | 'std', x: number, span: Span): number {
    const g = this.g;
    const s = g.shape(x);
    if (s.length !== 1) fail('SMC3001', `batch_${kind} takes a per-sample score of shape [B], got ${fmtShape(s)}`, span);
    if (this.opts.dmfdStats === 'population') {
      const k = this.stats.length;
      const site: StatSite = { kind, label: g.scope || 'model', input: statInput(k), score: scoreOutput(k) };
      this.stats.push(site);
      g.output(site.score, x);
      return g.atScope('', () => g.input(site.input, []));
    }
    const mean = g.mean(x, [0]);
    if (kind === 'mean') return mean;
    const d = g.sub(x, mean);
    return g.unary('sqrt', g.mean(g.unary('square', d), [0]));
  }

  private call(e: Extract<A.Expr, { kind: 'call' }>, scope: Scope): Value {
    const callee = this.eval(e.callee, scope);
    const args = this.evalArgs(e.args, scope);
    this.g.span = toSourceSpan(e.span);
    switch (callee.t) {
      case 'fn': {
        const def = FUNCTIONS[callee.name]!;
        const bound = this.bind(`\`${callee.name}\``, def.params, args, e.span);
        return def.build(this.context(e.span), bound);
      }
      case 'instance':
        return this.callInstance(callee.inst, args, e.span);
      case 'layer':
      case 'block':
        return fail('SMC2016', `${callee.t === 'layer' ? callee.name : callee.decl.name.name} is instantiated as a block member, not called inside \`forward\``, e.span, `declare \`name = ${callee.t === 'layer' ? callee.name : callee.decl.name.name}(...)\` above \`forward\`, then call \`name(...)\``);
      default:
        return fail('SMC2016', `${describe(callee, (i) => this.g.shape(i))} cannot be called`, e.span);
    }
  }

  // ---------------- blocks and instances ----------------

  /** `name = Layer(...)` or `name = Block(...)` inside a block body. */
  instantiate(value: A.Expr, path: string, frozen: boolean, scope: Scope, span: Span): Value {
    if (value.kind === 'if') {
      const c = this.eval(value.cond, scope);
      if (c.t === 'tensor') fail('SMC3002', '`if` needs a compile-time condition', value.cond.span);
      const truth = c.t === 'bool' ? c.v : asNumber(c, 'the condition', value.cond.span) !== 0;
      return this.instantiate(truth ? value.then : value.else, path, frozen, scope, span);
    }
    if (value.kind !== 'call') {
      const v = this.eval(value, scope);
      if (v.t === 'tensor') fail('SMC3002', 'block members are layer or block instances; tensors are computed inside `forward`', span);
      return v;
    }
    if (value.callee.kind === 'name' && value.callee.name === 'repeat' && scope.lookup('repeat') === undefined) return this.instantiateStack(value, path, frozen, scope, span);
    const callee = this.eval(value.callee, scope);
    const args = this.evalArgs(value.args, scope);
    if ((callee.t === 'layer' || callee.t === 'block') && ++this.instanceCount > LIMITS.instances) {
      fail('SMC3010', `the model has more than ${fmtCount(LIMITS.instances)} block and layer instances`, value.span, 'nested `repeat`s multiply: lower the counts');
    }
    if (callee.t === 'layer') {
      const def = LAYERS[callee.name]!;
      const bound = this.bind(`\`${callee.name}\``, def.ctor, args, value.span);
      return { t: 'instance', inst: { kind: 'layer', layer: callee.name, path, frozen, args: bound, span } };
    }
    if (callee.t === 'block') return { t: 'instance', inst: this.instantiateBlock(callee.decl, args, path, frozen, span) };
    if (callee.t === 'fn') fail('SMC2016', `\`${callee.name}\` is a function; call it inside \`forward\``, value.span);
    return fail('SMC2016', `${describe(callee)} cannot be instantiated`, value.span);
  }

  /** `repeat(n, Block(...))`: n fresh instances of the same member expression, named by their index. */
  private instantiateStack(value: Extract<A.Expr, { kind: 'call' }>, path: string, frozen: boolean, scope: Scope, span: Span): Value {
    const usage = 'write `name = repeat(n, Block(...))`: n instances of the block, applied in turn';
    if (value.args.length !== 2 || value.args.some((a) => a.name)) fail('SMC2004', '`repeat` takes two positional arguments', value.span, usage);
    const [countArg, memberArg] = value.args.map((a) => a.value) as [A.Expr, A.Expr];
    const count = asNumber(this.eval(countArg, scope), 'the count of `repeat`', countArg.span);
    if (!Number.isInteger(count) || count < 1 || count > 1000) fail('SMC3002', `\`repeat\` needs a whole count from 1 to 1000, got ${count}`, countArg.span, usage);
    if (memberArg.kind !== 'call' && memberArg.kind !== 'if') fail('SMC3002', '`repeat` repeats a layer or block instantiation', memberArg.span, usage);
    const items: Instance[] = [];
    for (let i = 0; i < count; i++) {
      const v = this.instantiate(memberArg, `${path}.${i}`, frozen, scope, span);
      if (v.t !== 'instance') fail('SMC3002', '`repeat` repeats a layer or block instantiation', memberArg.span, usage);
      items.push(v.inst);
    }
    return { t: 'instance', inst: { kind: 'stack', path, frozen, items, span } };
  }

  private instantiateBlock(decl: BlockDecl, args: ReturnType<Elaborator['evalArgs']>, path: string, frozen: boolean, span: Span): Instance {
    const name = decl.name.name;
    if (this.callStack.includes(`new ${name}`)) fail('SMC2015', `block \`${name}\` contains itself`, span, 'a block cannot instantiate itself, directly or through another block');
    if (this.callStack.length >= 64) fail('SMC2015', 'blocks contain each other more than 64 levels deep', span, 'flatten the block hierarchy');
    const specs = decl.params.map((p) => ({ name: p.name.name, type: (p.type === 'float' ? 'num' : p.type ?? 'any') as 'num', default: undefined as Value | undefined }));
    // Defaults are expressions; evaluate them lazily in the global scope.
    const global = new Scope();
    decl.params.forEach((p, i) => {
      if (p.default) specs[i]!.default = this.eval(p.default, global);
    });
    const bound = this.bind(`block \`${name}\``, specs, args, span);
    const env = new Scope();
    for (const p of decl.params) env.vars.set(p.name.name, { value: bound.get(p.name.name)!, span: p.name.span, used: false, kind: 'param' });
    const inst: Instance = { kind: 'user', decl, path, frozen, members: new Map(), span };
    this.instanceScopes.set(inst, env);
    this.callStack.push(`new ${name}`);
    try {
      for (const m of decl.members) {
        const mpath = path ? `${path}.${m.name.name}` : m.name.name;
        const value = this.guard(() => {
          if (m.kind === 'param') return this.declareParam(m, path, frozen || m.frozen, env);
          return this.instantiate(m.value, mpath, frozen || m.frozen, env, m.span);
        }, m.span);
        if (value === undefined) {
          const b: Binding = { value: { t: 'none' }, span: m.name.span, used: true, kind: 'let' };
          this.poisoned.add(b);
          env.vars.set(m.name.name, b);
          continue;
        }
        if (env.vars.has(m.name.name)) {
          this.diagnostics.push(diag('SMC2002', `\`${m.name.name}\` is already declared in block \`${name}\``, m.name.span));
          continue;
        }
        env.vars.set(m.name.name, { value, span: m.name.span, used: false, kind: 'member' });
        inst.members.set(m.name.name, value);
      }
    } finally {
      this.callStack.pop();
    }
    return inst;
  }

  private declareParam(m: Extract<A.Member, { kind: 'param' }>, path: string, frozen: boolean, env: Scope): Value {
    const shape = asShape(this.eval(m.shape, env), `the shape of \`${m.name.name}\``, m.shape.span);
    let init: InitSpec = { kind: 'normal', std: 0.02 };
    if (m.init) {
      const e = m.init;
      const fname = e.kind === 'call' && e.callee.kind === 'name' ? e.callee.name : e.kind === 'name' ? e.name : undefined;
      const def = fname ? INITS[fname] : undefined;
      if (!def) fail('SMC2003', `unknown initialiser${fname ? ` \`${fname}\`` : ''}`, e.span, fname ? didYouMean(fname, Object.keys(INITS)) ?? `use one of ${Object.keys(INITS).join(', ')}` : `use one of ${Object.keys(INITS).join(', ')}`);
      const args = e.kind === 'call' ? this.evalArgs(e.args, env) : { positional: [], named: [] };
      init = def.make(this.bind(`\`${fname}\``, def.params, args, e.span), shape);
    }
    return tensor(this.g.atScope(path, () => this.g.param(m.name.name, shape, init, { frozen })));
  }

  callInstance(inst: Instance, args: ReturnType<Elaborator['evalArgs']>, span: Span): Value {
    this.usedMembers.add(inst);
    if (inst.kind === 'stack') {
      if (args.named.length || !args.positional.length) fail('SMC2004', `\`${inst.path}\` (repeat) takes its input first, then any arguments every instance receives, all positional`, span);
      let x = args.positional[0]!;
      for (const item of inst.items) x = { value: this.callInstance(item, { positional: [x, ...args.positional.slice(1)], named: [] }, span), span: x.span };
      return x.value;
    }
    if (inst.kind === 'layer') {
      const def = LAYERS[inst.layer]!;
      const bound = this.bind(`\`${inst.path}\` (${inst.layer})`, def.call, args, span);
      return this.frozenScope(inst.frozen, () => this.g.atScope(inst.path, () => def.build(this.context(span), inst.args, bound)));
    }
    const decl = inst.decl;
    const fwd = decl.forward;
    if (!fwd) return fail('SMC2016', `block \`${decl.name.name}\` has no \`forward\` and cannot be called`, span, 'add `forward(...) { ... return ... }` to the block');
    if (args.named.length) fail('SMC2005', `\`forward\` of \`${decl.name.name}\` takes positional arguments only`, args.named[0]!.span);
    if (args.positional.length !== fwd.params.length) {
      fail('SMC2004', `\`${inst.path}\` (${decl.name.name}) takes ${fwd.params.length} argument${fwd.params.length === 1 ? '' : 's'} (${fwd.params.map((p) => p.name).join(', ')}), got ${args.positional.length}`, span);
    }
    if (++this.callDepth > 64) fail('SMC2015', 'blocks call each other too deeply', span);
    this.callStack.push(inst.path ? `${inst.path} (${decl.name.name})` : `model ${decl.name.name}`);
    try {
      const scope = new Scope(this.instanceScopes.get(inst));
      fwd.params.forEach((p, i) => scope.vars.set(p.name, { value: args.positional[i]!.value, span: p.span, used: false, kind: 'arg' }));
      return this.frozenScope(inst.frozen, () => this.g.atScope(inst.path, () => this.runBody(fwd, scope, inst.path === '')));
    } finally {
      this.callStack.pop();
      this.callDepth--;
    }
  }

  private frozenScope<T>(frozen: boolean, fn: () => T): T {
    if (frozen) this.g.frozenDepth++;
    try {
      return fn();
    } finally {
      if (frozen) this.g.frozenDepth--;
    }
  }

  private runBody(fwd: A.Forward, scope: Scope, isModel: boolean): Value {
    let result: Value = { t: 'none' };
    let returned = false;
    let failed = false;
    for (const st of fwd.body) {
      if (returned) {
        this.warn('SMC2013', 'this statement comes after `return` and is never run', st.span, 'delete it or move it above `return`');
        break;
      }
      const v = this.guard(() => this.eval(st.value, scope), st.value.span);
      if (v === undefined) {
        // Reported; bind the names to a poison value so later uses stay quiet.
        failed = true;
        const names = st.kind === 'let' ? st.names : st.kind === 'output' ? [st.name] : [];
        for (const n of names) {
          const b: Binding = { value: { t: 'none' }, span: n.span, used: true, kind: 'let' };
          this.poisoned.add(b);
          scope.vars.set(n.name, b);
        }
        if (st.kind === 'return') throw new Poisoned();
        continue;
      }
      if (st.kind === 'return') {
        result = v;
        returned = true;
      } else if (st.kind === 'output') {
        if (!isModel) fail('SMC2018', '`output` is only allowed in the model’s `forward`', st.span, 'return the value from this block and declare the output in the model');
        if (v.t !== 'tensor') fail('SMC3002', `output \`${st.name.name}\` must be a tensor, got ${describe(v)}`, st.span);
        if (this.modelOutputs.has(st.name.name)) fail('SMC2002', `output \`${st.name.name}\` is declared twice`, st.name.span);
        this.modelOutputs.set(st.name.name, v.id);
        scope.vars.set(st.name.name, { value: v, span: st.name.span, used: true, kind: 'let' });
      } else {
        if (st.tuple) {
          const items = v.t === 'tuple' || v.t === 'list' ? v.items : undefined;
          if (!items) fail('SMC3007', `cannot unpack ${describe(v, (i) => this.g.shape(i))} into ${st.names.length} names`, st.span);
          if (items.length !== st.names.length) fail('SMC3007', `cannot unpack ${items.length} values into ${st.names.length} names`, st.span);
          st.names.forEach((n, i) => this.bindLet(scope, n, items[i]!));
        } else {
          this.bindLet(scope, st.names[0]!, v);
        }
      }
    }
    if (failed) throw new Poisoned();
    for (const [name, b] of scope.vars) {
      // The model's forward arguments are the declared inputs: a variant may leave some unused.
      if (!b.used && !name.startsWith('_') && (b.kind === 'let' || (b.kind === 'arg' && !isModel))) {
        this.warn('SMC2013', `\`${name}\` is never used`, b.span, `delete it, or name it \`_${name}\` to keep it`);
      }
    }
    return result;
  }

  private bindLet(scope: Scope, name: A.Ident, value: Value): void {
    if (scope.vars.has(name.name)) fail('SMC2002', `\`${name.name}\` is already bound in this \`forward\``, name.span, 'use a new name');
    scope.vars.set(name.name, { value, span: name.span, used: false, kind: 'let' });
  }

  // ---------------- the whole program ----------------

  run(): Elaborated {
    const p = this.program;
    // Inputs and targets.
    for (const [name, d] of p.inputs) {
      if (d.target && !this.opts.withLoss) continue; // targets feed only the loss
      this.guard(() => {
        const shape = asShape(this.eval(d.shape, new Scope()), `the shape of \`${name}\``, d.shape.span);
        this.g.span = toSourceSpan(d.span);
        this.inputIds.set(name, this.g.input(name, shape));
      }, d.span);
    }
    const unbound = [...p.dims.values()].filter((d) => !d.value);
    if (unbound.length > 1) {
      this.diagnostics.push(diag('SMC3004', `only one dimension may be left unbound (the batch); \`${unbound[1]!.name.name}\` needs a value`, unbound[1]!.span, `write \`dim ${unbound[1]!.name.name} = ...\``));
    }
    const instances: Elaborated['instances'] = [];
    const model = p.model;
    if (!model) {
      this.diagnostics.push(diag('SMC2011', 'the spec has no `model`', { file: p.entry, line: 1, column: 1 }, 'declare `model Name { ...members...  forward(inputs...) { ... output pred = ... } }`'));
    } else {
      const inst = this.guard(() => this.instantiateBlock(model, { positional: [], named: [] }, '', false, model.span), model.span);
      if (inst && inst.kind === 'user') {
        for (const m of model.members) {
          const v = inst.members.get(m.name.name);
          if (v?.t === 'instance') instances.push({ name: m.name.name, block: instanceKind(v.inst), path: v.inst.path });
        }
        const fwd = model.forward;
        if (!fwd) {
          this.diagnostics.push(diag('SMC2011', `model \`${model.name.name}\` has no \`forward\``, model.name.span, 'add `forward(inputs...) { ... output pred = ... }`'));
        } else {
          const args = fwd.params.map((prm) => {
            const id = this.inputIds.get(prm.name);
            if (id === undefined && p.inputs.has(prm.name)) return undefined; // declared, but its shape failed (reported)
            if (id === undefined) {
              const known = [...p.inputs.keys()];
              this.diagnostics.push(diag('SMC2012', `\`${prm.name}\` is not a declared input`, prm.span, didYouMean(prm.name, known) ?? `the model’s forward takes inputs by name: ${known.join(', ') || 'declare one with `input name: [shape]`'}`));
              return undefined;
            }
            return { value: tensor(id), span: prm.span };
          });
          if (args.every((a) => a)) {
            this.guard(() => this.callInstance(inst, { positional: args as { value: Value; span: Span }[], named: [] }, fwd.span), fwd.span);
          }
        }
        // After an error, members look unused only because the failing statement never called them.
        if (!this.diagnostics.some((d) => d.severity === 'error')) this.reportUnusedMembers(inst);
      }
    }
    for (const [k, v] of this.modelOutputs) this.g.output(k, v);
    let loss: number | undefined;
    // A model that failed to elaborate would only produce follow-on errors in the loss.
    if (this.opts.withLoss && !this.diagnostics.some((d) => d.severity === 'error')) loss = this.buildLoss();
    const constants: Record<string, unknown> = {};
    for (const [name, decl] of this.program.consts) {
      try {
        constants[name] = toPlain(this.constValue(name, decl.name.span), name, decl.name.span);
      } catch {
        // a constant that does not evaluate to plain data (it is reported where it is used)
      }
    }
    return { graph: this.g.build(), outputs: this.modelOutputs, loss, instances, stats: this.stats, constants, diagnostics: this.diagnostics };
  }

  private reportUnusedMembers(inst: Instance): void {
    if (inst.kind === 'stack') {
      for (const item of inst.items) this.reportUnusedMembers(item);
      return;
    }
    if (inst.kind !== 'user') return;
    for (const [name, v] of inst.members) {
      if (v.t !== 'instance') continue;
      if (!this.usedMembers.has(v.inst)) {
        const span = inst.decl.members.find((m) => m.name.name === name)?.name.span ?? inst.span;
        this.warn('SMC2014', `\`${v.inst.path}\` is never called, so its parameters are never used`, span, 'call it in `forward`, or delete it');
      } else {
        this.reportUnusedMembers(v.inst);
      }
    }
  }

  private buildLoss(): number | undefined {
    const sec = this.program.sections.get('train');
    const setting = sec?.values.get('loss');
    if (!setting) {
      this.diagnostics.push(diag('SMC2017', 'the `train` section has no `loss`', sec?.span ?? { file: this.program.entry, line: 1, column: 1 }, 'add `loss = l1(pred, label)` to `train { ... }`'));
      return undefined;
    }
    const scope = new Scope();
    for (const [k, v] of this.modelOutputs) scope.vars.set(k, { value: tensor(v), span: setting.key.span, used: true, kind: 'member' });
    return this.guard(() => {
      this.g.span = toSourceSpan(setting.value.span);
      const v = this.g.atScope('loss', () => this.eval(setting.value, scope));
      if (v.t !== 'tensor' || this.g.shape(v.id).length !== 0) {
        fail('SMC3001', `the loss must be a scalar tensor, got ${describe(v, (i) => this.g.shape(i))}`, setting.value.span, 'reduce it with a loss function such as `l1(pred, label)`');
      }
      this.g.output('loss', v.id);
      return v.id;
    }, setting.value.span);
  }
}
