// The typed AST of a .smcir file; every node carries the source span it came from.

import type { Span } from './diagnostics.js';

export type Expr =
  | { kind: 'num'; value: number; span: Span; /** written with a `.` or an exponent (`0.5`, `1.0`, `1e-3`): a float, not an int */ float?: boolean }
  | { kind: 'str'; value: string; span: Span }
  | { kind: 'bool'; value: boolean; span: Span }
  | { kind: 'name'; name: string; span: Span }
  | { kind: 'list'; items: Expr[]; span: Span }
  | { kind: 'tuple'; items: Expr[]; span: Span }
  | { kind: 'unary'; op: '-' | 'not'; operand: Expr; span: Span }
  | { kind: 'binary'; op: BinaryOperator; left: Expr; right: Expr; span: Span }
  | { kind: 'if'; cond: Expr; then: Expr; else: Expr; span: Span }
  | { kind: 'call'; callee: Expr; args: Arg[]; span: Span }
  | { kind: 'member'; object: Expr; name: string; span: Span }
  | { kind: 'index'; object: Expr; indices: Index[]; span: Span };

export type BinaryOperator =
  | '+' | '-' | '*' | '/' | '//' | '%' | '**' | '@'
  | '<' | '<=' | '>' | '>=' | '==' | '!='
  | 'and' | 'or';

export interface Arg {
  name?: string;
  value: Expr;
  span: Span;
}

export type Index = { kind: 'at'; value: Expr } | { kind: 'range'; start?: Expr; end?: Expr };

export interface Ident {
  name: string;
  span: Span;
}

export type Stmt =
  | { kind: 'let'; names: Ident[]; tuple: boolean; value: Expr; span: Span }
  | { kind: 'output'; name: Ident; value: Expr; span: Span }
  | { kind: 'return'; value: Expr; span: Span };

export interface BlockParam {
  name: Ident;
  type?: 'int' | 'float' | 'str' | 'bool';
  default?: Expr;
}

/** `name = Layer(args)`, optionally `frozen`; or `param name: [shape] init expr`. */
export type Member =
  | { kind: 'instance'; name: Ident; frozen: boolean; value: Expr; span: Span }
  | { kind: 'param'; name: Ident; frozen: boolean; shape: Expr; init?: Expr; span: Span };

export interface Forward {
  params: Ident[];
  body: Stmt[];
  span: Span;
}

export interface Setting {
  key: Ident;
  value: Expr;
}

export interface SettingsGroup {
  kind: 'group';
  section: Ident; // e.g. `group`
  name: Ident;
  settings: Setting[];
  span: Span;
}

export type Decl =
  | { kind: 'import'; path: string; span: Span }
  | { kind: 'const'; name: Ident; value: Expr; span: Span }
  | { kind: 'dim'; name: Ident; value?: Expr; span: Span }
  | { kind: 'input'; name: Ident; shape: Expr; target: boolean; span: Span }
  | { kind: 'block'; name: Ident; params: BlockParam[]; members: Member[]; forward?: Forward; model: boolean; span: Span }
  | { kind: 'settings'; section: Ident; settings: Setting[]; groups: SettingsGroup[]; span: Span };

export interface SmcirFile {
  file: string;
  decls: Decl[];
}
