// CST → typed AST visitor, and `parseSmcir`: text in, AST plus every lexing and syntax diagnostic out.

import type { CstNode, IToken, IRecognitionException, TokenType } from 'chevrotain';
import type * as A from './ast.js';
import { diag, type Diagnostic, type Span } from './diagnostics.js';
import * as T from './lexer.js';
import { smcirLexer, StringLit, UnterminatedString } from './lexer.js';
import { smcirParser } from './parser.js';
import { LIMITS } from '../compiler/check/limits.js';

type Children = Record<string, (CstNode | IToken)[] | undefined>;

const isToken = (x: CstNode | IToken): x is IToken => (x as IToken).image !== undefined;

function spanOfToken(file: string, t: IToken): Span {
  return { file, line: t.startLine ?? 1, column: t.startColumn ?? 1, endColumn: t.endLine === t.startLine ? t.endColumn : t.startColumn };
}

/** First token of a CST subtree (for spans). */
function firstToken(n: CstNode | IToken): IToken | undefined {
  if (isToken(n)) return n;
  let best: IToken | undefined;
  for (const list of Object.values(n.children)) {
    for (const c of list ?? []) {
      const t = firstToken(c);
      if (t && !Number.isNaN(t.startOffset) && (!best || t.startOffset < best.startOffset)) best = t;
    }
  }
  return best;
}

function lastToken(n: CstNode | IToken): IToken | undefined {
  if (isToken(n)) return n;
  let best: IToken | undefined;
  for (const list of Object.values(n.children)) {
    for (const c of list ?? []) {
      const t = lastToken(c);
      if (t && !Number.isNaN(t.startOffset) && (!best || t.startOffset > best.startOffset)) best = t;
    }
  }
  return best;
}

class AstBuilder {
  constructor(private readonly file: string) {}

  span(n: CstNode | IToken): Span {
    if (!isToken(n) && n.location && !Number.isNaN(n.location.startOffset) && n.location.startLine !== undefined) {
      const l = n.location;
      const s: Span = { file: this.file, line: l.startLine!, column: l.startColumn! };
      if (l.endLine === l.startLine && l.endColumn !== undefined && !Number.isNaN(l.endColumn)) s.endColumn = l.endColumn;
      return s;
    }
    const a = firstToken(n);
    const b = lastToken(n);
    if (!a) return { file: this.file, line: 1, column: 1 };
    const s = spanOfToken(this.file, a);
    if (b && b.startLine === a.startLine && b.endColumn !== undefined) s.endColumn = b.endColumn;
    return s;
  }

  tok(ch: Children, name: string, i = 0): IToken | undefined {
    const t = ch[name]?.[i];
    return t && isToken(t) && !t.isInsertedInRecovery ? t : undefined;
  }

  node(ch: Children, name: string, i = 0): CstNode | undefined {
    const n = ch[name]?.[i];
    return n && !isToken(n) ? n : undefined;
  }

  nodes(ch: Children, name: string): CstNode[] {
    return (ch[name] ?? []).filter((n): n is CstNode => !isToken(n));
  }

  ident(t: IToken | undefined, fallback: CstNode): A.Ident {
    return t ? { name: t.image, span: spanOfToken(this.file, t) } : { name: '<missing>', span: this.span(fallback) };
  }

  file_(n: CstNode): A.SmcirFile {
    const decls: A.Decl[] = [];
    for (const d of this.nodes(n.children, 'decl')) {
      const inner = Object.values(d.children).flat().find((c) => !isToken(c)) as CstNode | undefined;
      if (!inner) continue;
      const decl = this.decl(inner);
      if (decl) decls.push(decl);
    }
    return { file: this.file, decls };
  }

  decl(n: CstNode): A.Decl | undefined {
    const ch = n.children;
    const span = this.span(n);
    switch (n.name) {
      case 'importDecl': {
        const t = this.tok(ch, 'StringLit');
        return t ? { kind: 'import', path: unquote(t.image), span } : undefined;
      }
      case 'constDecl': {
        const e = this.node(ch, 'expr');
        return e ? { kind: 'const', name: this.ident(this.tok(ch, 'Identifier'), n), value: this.expr(e), span } : undefined;
      }
      case 'dimDecl': {
        const e = this.node(ch, 'expr');
        return { kind: 'dim', name: this.ident(this.tok(ch, 'Identifier'), n), value: e ? this.expr(e) : undefined, span };
      }
      case 'inputDecl': {
        const e = this.node(ch, 'expr');
        if (!e) return undefined;
        return { kind: 'input', name: this.ident(this.tok(ch, 'Identifier'), n), shape: this.expr(e), target: !!ch.Target, span };
      }
      case 'blockDecl':
        return this.block(n);
      case 'settingsDecl':
        return this.settings(n);
      default:
        return undefined;
    }
  }

  block(n: CstNode): A.Decl {
    const ch = n.children;
    const model = !!ch.Model;
    const nameTok = this.tok(ch, 'Identifier', 0);
    const params: A.BlockParam[] = this.nodes(ch, 'blockParam').map((p) => {
      const pc = p.children;
      const typeTok = this.tok(pc, 'type');
      const def = this.node(pc, 'expr');
      return {
        name: this.ident(this.tok(pc, 'Identifier'), p),
        type: typeTok ? (typeTok.image as A.BlockParam['type']) : undefined,
        default: def ? this.expr(def) : undefined,
      };
    });
    const members: A.Member[] = [];
    for (const m of this.nodes(ch, 'member')) {
      const mc = m.children;
      const frozen = !!mc.Frozen;
      const span = this.span(m);
      if (mc.Param) {
        const shape = this.node(mc, 'shape');
        const init = this.node(mc, 'init');
        if (shape) members.push({ kind: 'param', name: this.ident(this.tok(mc, 'Identifier'), m), frozen, shape: this.expr(shape), init: init ? this.expr(init) : undefined, span });
      } else {
        const value = this.node(mc, 'value');
        if (value) members.push({ kind: 'instance', name: this.ident(this.tok(mc, 'Identifier'), m), frozen, value: this.expr(value), span });
      }
    }
    const fwdNode = this.node(ch, 'forwardDef');
    let forward: A.Forward | undefined;
    if (fwdNode) {
      const fc = fwdNode.children;
      const list = this.node(fc, 'identList');
      forward = {
        params: list ? this.identList(list) : [],
        body: this.nodes(fc, 'stmt').map((s) => this.stmt(s)).filter((s): s is A.Stmt => !!s),
        span: this.span(fwdNode),
      };
    }
    return { kind: 'block', name: this.ident(nameTok, n), params, members, forward, model, span: this.span(n) };
  }

  identList(n: CstNode): A.Ident[] {
    return ((n.children.Identifier ?? []) as IToken[]).filter((t) => !t.isInsertedInRecovery).map((t) => ({ name: t.image, span: spanOfToken(this.file, t) }));
  }

  stmt(n: CstNode): A.Stmt | undefined {
    const ch = n.children;
    const e = this.node(ch, 'expr');
    if (!e) return undefined;
    const span = this.span(n);
    if (ch.Let) {
      const list = this.node(ch, 'identList');
      const names = list ? this.identList(list) : [this.ident(this.tok(ch, 'Identifier'), n)];
      return { kind: 'let', names, tuple: !!list, value: this.expr(e), span };
    }
    if (ch.Output) return { kind: 'output', name: this.ident(this.tok(ch, 'Identifier'), n), value: this.expr(e), span };
    return { kind: 'return', value: this.expr(e), span };
  }

  settings(n: CstNode): A.Decl {
    const ch = n.children;
    const settings: A.Setting[] = [];
    const groups: A.SettingsGroup[] = [];
    for (const item of this.nodes(ch, 'settingsItem')) {
      const ic = item.children;
      const direct = this.node(ic, 'setting');
      if (direct && !ic.groupSection) {
        const s = this.setting(direct);
        if (s) settings.push(s);
        continue;
      }
      groups.push({
        kind: 'group',
        section: this.ident(this.tok(ic, 'groupSection'), item),
        name: this.ident(this.tok(ic, 'groupName'), item),
        settings: this.nodes(ic, 'setting').map((s) => this.setting(s)).filter((s): s is A.Setting => !!s),
        span: this.span(item),
      });
    }
    return { kind: 'settings', section: this.ident(this.tok(ch, 'section'), n), settings, groups, span: this.span(n) };
  }

  setting(n: CstNode): A.Setting | undefined {
    const e = this.node(n.children, 'expr');
    const t = this.tok(n.children, 'Identifier');
    return e && t ? { key: this.ident(t, n), value: this.expr(e) } : undefined;
  }

  // ---- expressions ----
  expr(n: CstNode | undefined): A.Expr {
    if (!n) return { kind: 'name', name: '<missing>', span: { file: this.file, line: 1, column: 1 } };
    const ch = n.children;
    switch (n.name) {
      case 'expr':
        return this.expr(this.node(ch, 'ifExpr') ?? this.node(ch, 'orExpr'));
      case 'ifExpr': {
        const c = this.node(ch, 'cond');
        const t = this.node(ch, 'then');
        const e = this.node(ch, 'else');
        if (!c || !t || !e) return this.missing(n);
        return { kind: 'if', cond: this.expr(c), then: this.expr(t), else: this.expr(e), span: this.span(n) };
      }
      case 'orExpr':
      case 'andExpr':
      case 'cmpExpr':
      case 'addExpr':
      case 'mulExpr':
        return this.chain(n);
      case 'notExpr': {
        const inner = this.node(ch, 'notExpr');
        if (inner) return { kind: 'unary', op: 'not', operand: this.expr(inner), span: this.span(n) };
        return this.expr(this.node(ch, 'cmpExpr'));
      }
      case 'unaryExpr': {
        const inner = this.node(ch, 'unaryExpr');
        if (inner) {
          const operand = this.expr(inner);
          if (operand.kind === 'num') return { ...operand, value: -operand.value, span: this.span(n) };
          return { kind: 'unary', op: '-', operand, span: this.span(n) };
        }
        return this.expr(this.node(ch, 'powExpr'));
      }
      case 'powExpr': {
        const base = this.expr(this.node(ch, 'postfixExpr'));
        const exp = this.node(ch, 'unaryExpr');
        return exp ? { kind: 'binary', op: '**', left: base, right: this.expr(exp), span: this.span(n) } : base;
      }
      case 'postfixExpr':
        return this.postfix(n);
      case 'atom':
        return this.atom(n);
      default:
        return this.missing(n);
    }
  }

  missing(n: CstNode): A.Expr {
    return { kind: 'name', name: '<missing>', span: this.span(n) };
  }

  chain(n: CstNode): A.Expr {
    const operands = this.nodes(n.children, 'operands');
    const ops = (n.children.ops ?? []) as IToken[];
    if (operands.length === 0) return this.missing(n);
    let left = this.expr(operands[0]);
    for (let i = 1; i < operands.length; i++) {
      const opTok = ops[i - 1];
      const right = this.expr(operands[i]);
      const op = (opTok?.image ?? '+') as A.BinaryOperator;
      const span = { ...left.span };
      if (right.span.line === span.line && right.span.endColumn !== undefined) span.endColumn = right.span.endColumn;
      left = { kind: 'binary', op, left, right, span };
    }
    return left;
  }

  postfix(n: CstNode): A.Expr {
    const ch = n.children;
    let e = this.expr(this.node(ch, 'atom'));
    // Suffixes in source order.
    const suffixes = [...this.nodes(ch, 'callSuffix'), ...this.nodes(ch, 'memberSuffix'), ...this.nodes(ch, 'indexSuffix')].sort(
      (a, b) => (a.location?.startOffset ?? 0) - (b.location?.startOffset ?? 0),
    );
    for (const s of suffixes) {
      const span = { ...e.span };
      const end = s.location;
      if (end && end.endLine === span.line && end.endColumn !== undefined && !Number.isNaN(end.endColumn)) span.endColumn = end.endColumn;
      if (s.name === 'callSuffix') {
        const args = this.nodes(s.children, 'arg').map((a): A.Arg => {
          const ac = a.children;
          const nameTok = this.tok(ac, 'Identifier');
          return { name: nameTok?.image, value: this.expr(this.node(ac, 'expr')), span: this.span(a) };
        });
        e = { kind: 'call', callee: e, args, span };
      } else if (s.name === 'memberSuffix') {
        e = { kind: 'member', object: e, name: this.tok(s.children, 'Identifier')?.image ?? '<missing>', span };
      } else {
        const indices = this.nodes(s.children, 'indexItem').map((it): A.Index => {
          const ic = it.children;
          const start = this.node(ic, 'start');
          const end = this.node(ic, 'end');
          if (!ic.Colon) return { kind: 'at', value: this.expr(start) };
          return { kind: 'range', start: start ? this.expr(start) : undefined, end: end ? this.expr(end) : undefined };
        });
        e = { kind: 'index', object: e, indices, span };
      }
    }
    return e;
  }

  atom(n: CstNode): A.Expr {
    const ch = n.children;
    const span = this.span(n);
    const num = this.tok(ch, 'NumberLit');
    if (num) return /[.eE]/.test(num.image) ? { kind: 'num', value: Number(num.image), span, float: true } : { kind: 'num', value: Number(num.image), span };
    const str = this.tok(ch, 'StringLit');
    if (str) return { kind: 'str', value: unquote(str.image), span };
    if (ch.True) return { kind: 'bool', value: true, span };
    if (ch.False) return { kind: 'bool', value: false, span };
    const id = this.tok(ch, 'Identifier');
    if (id) return { kind: 'name', name: id.image, span };
    const items = this.nodes(ch, 'expr').map((e) => this.expr(e));
    if (ch.LBracket) return { kind: 'list', items, span };
    if (items.length === 1 && !ch.Comma) return items[0]!;
    return { kind: 'tuple', items, span };
  }
}

function unquote(s: string): string {
  return s.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

function describeToken(t: IToken): string {
  if (t.tokenType.name === 'EOF') return 'the end of the file';
  return `\`${t.image}\``;
}

/** ", expected a name or `)`" from Chevrotain's "one of these possible Token sequences" message. */
function expectedAlternatives(message: string): string {
  const labels = [...new Set([...message.matchAll(/^\s*\d+\. \[(.+?)\]/gm)].map((m) => m[1]!))];
  if (labels.length === 0) return '';
  if (labels.includes('a number')) return ', expected an expression';
  return `, expected ${labels.length === 1 ? labels[0] : `${labels.slice(0, -1).join(', ')} or ${labels.at(-1)}`}`;
}

function syntaxDiagnostic(file: string, e: IRecognitionException): Diagnostic {
  const t = e.token;
  const at = t.tokenType.name === 'EOF' ? ((e as { previousToken?: IToken }).previousToken ?? t) : t;
  const span = Number.isNaN(at.startOffset) ? undefined : spanOfToken(file, at);
  const rule = e.context.ruleStack.at(-1) ?? '';
  const what = RULE_NAMES[rule] ?? 'this declaration';
  let hint: string | undefined;
  let message: string;
  if (e.name === 'MismatchedTokenException') {
    const label = /Expecting --> (.+?) <--/.exec(e.message)?.[1] ?? 'something else';
    message = `expected ${label} in ${what}, found ${describeToken(t)}`;
    if (['`)`', '`]`', '`}`'].includes(label)) hint = `close the bracket opened earlier with ${label}`;
    if (label === '`=`') hint = 'declarations and settings have the form `name = value`';
  } else if (e.name === 'NoViableAltException' || e.name === 'EarlyExitException') {
    message = `unexpected ${describeToken(t)} in ${what}${expectedAlternatives(e.message)}`;
    if (rule === 'decl' || rule === 'file') hint = 'a top-level declaration starts with `import`, `const`, `dim`, `input`, `target`, `block`, `model`, or a settings section such as `train { ... }`';
    else if (rule === 'member') hint = 'a block body declares members (`name = Layer(...)`, `param name: [shape]`) and then one `forward(...) { ... }`';
    else if (rule === 'stmt') hint = 'statements in `forward` start with `let`, `output` or `return`';
    else hint = 'check for a missing operand or an extra operator';
  } else {
    message = `${e.message} in ${what}`;
  }
  return diag('SMC1003', message, span, hint);
}

const RULE_NAMES: Record<string, string> = {
  file: 'the file', decl: 'a declaration', importDecl: 'an import', constDecl: 'a `const` declaration', dimDecl: 'a `dim` declaration',
  inputDecl: 'an input declaration', blockDecl: 'a block', blockParam: 'a block parameter', member: 'a block member',
  forwardDef: '`forward`', identList: 'a list of names', stmt: 'a statement', settingsDecl: 'a settings section',
  settingsItem: 'a setting', setting: 'a setting', expr: 'an expression', ifExpr: 'an `if` expression', callSuffix: 'a call',
  arg: 'an argument', indexSuffix: 'an index', indexItem: 'an index', atom: 'an expression', postfixExpr: 'an expression',
  orExpr: 'an expression', andExpr: 'an expression', notExpr: 'an expression', cmpExpr: 'a comparison', addExpr: 'an expression',
  mulExpr: 'an expression', unaryExpr: 'an expression', powExpr: 'an expression', memberSuffix: 'a member access',
};


export interface ParseResult {
  ast: A.SmcirFile;
  diagnostics: Diagnostic[];
}

/** Lexes and parses one .smcir text. Never throws on bad input: problems come back as diagnostics. */
export function parseSmcir(text: string, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lexed = smcirLexer.tokenize(text);
  for (const e of lexed.errors) {
    const span: Span = { file, line: e.line ?? 1, column: e.column ?? 1 };
    const ch = text.substr(e.offset, 1);
    diagnostics.push(diag('SMC1001', `unexpected character \`${ch}\``, span, 'remove it; comments start with `#`'));
  }
  // An unterminated string is reported once and then parsed as if it were closed, to avoid follow-on errors.
  const tokens = lexed.tokens.map((t) => {
    if (t.tokenType !== UnterminatedString) return t;
    diagnostics.push(diag('SMC1002', 'this string is not closed', spanOfToken(file, t), 'add the closing `"` on the same line'));
    return { ...t, image: `${t.image}"`, tokenType: StringLit, tokenTypeIdx: StringLit.tokenTypeIdx! };
  });
  // The parser recurses on nesting: refuse a too deeply nested text before parsing it.
  const deep = tooDeep(tokens);
  if (deep) {
    diagnostics.push(diag('SMC1006', `brackets and prefix operators nest more than ${LIMITS.nesting} deep here`, spanOfToken(file, deep), 'flatten the expression: name intermediate results with `const` or `let`'));
    return { ast: { file, decls: [] }, diagnostics };
  }
  smcirParser.input = tokens;
  const cst = smcirParser.file();
  for (const e of smcirParser.errors) diagnostics.push(syntaxDiagnostic(file, e));
  const ast = new AstBuilder(file).file_(cst);
  // The checker recurses on the syntax tree: long operator or suffix chains are bounded too.
  for (const d of ast.decls) {
    const at = deepestExpr(d);
    if (at) {
      diagnostics.push(diag('SMC1006', `this expression is more than ${LIMITS.exprDepth} levels deep`, at, 'split a long chain of operators or suffixes into several `const` or `let` steps'));
      return { ast: { file, decls: [] }, diagnostics };
    }
  }
  return { ast, diagnostics };
}

type Marker = 'neg' | 'pow' | 'not' | 'if';
const OPERAND_END = new Set<TokenType>([T.NumberLit, T.StringLit, T.Identifier, T.True, T.False, T.RParen, T.RBracket]);
const ARITH = new Set<TokenType>([T.Plus, T.Minus, T.Star, T.Slash, T.SlashSlash, T.Percent, T.At, T.Less, T.LessEq, T.Greater, T.GreaterEq, T.EqEq, T.NotEq]);
const LOGIC = new Set<TokenType>([T.And, T.Or]);
const OPENS = new Set<TokenType>([T.LParen, T.LBracket, T.LBrace]);
const CLOSES = new Set<TokenType>([T.RParen, T.RBracket, T.RBrace]);
/** Tokens after which a new expression starts at the same level. */
const RESETS = new Set<TokenType>([T.Comma, T.Equals, T.Colon, T.Semicolon, ...T.KEYWORDS.filter((k) => ![T.If, T.Then, T.Else, T.And, T.Or, T.Not, T.True, T.False].includes(k))]);

/**
 * The first token at which the parser's recursion would pass LIMITS.nesting: open brackets plus the prefix and
 * right-associative operators (`-x`, `not`, `if`, `**`) still open around it. An upper bound of the parser's rule
 * depth divided by a small constant, computed in one pass without recursion.
 */
function tooDeep(tokens: IToken[]): IToken | undefined {
  const levels: Marker[][] = [[]];
  let depth = 0;
  let prev: TokenType | undefined;
  const popWhile = (keep: (m: Marker) => boolean) => {
    const top = levels.at(-1)!;
    while (top.length && !keep(top.at(-1)!)) {
      top.pop();
      depth--;
    }
  };
  for (const t of tokens) {
    const k = t.tokenType;
    let marker: Marker | undefined;
    if (OPENS.has(k)) {
      levels.push([]);
      depth++;
    } else if (CLOSES.has(k)) {
      if (levels.length > 1) depth -= 1 + levels.pop()!.length;
    } else if (k === T.Minus && !(prev && OPERAND_END.has(prev))) marker = 'neg';
    else if (k === T.Not) marker = 'not';
    else if (k === T.If) marker = 'if';
    else if (k === T.StarStar) marker = 'pow';
    else if (ARITH.has(k)) popWhile((m) => m === 'not' || m === 'if');
    else if (LOGIC.has(k)) popWhile((m) => m === 'if');
    else if (k === T.Then || k === T.Else) popWhile((m) => m === 'if');
    else if (RESETS.has(k)) {
      depth -= levels.at(-1)!.length;
      levels.at(-1)!.length = 0;
    }
    if (marker) {
      levels.at(-1)!.push(marker);
      depth++;
    }
    if (depth > LIMITS.nesting) return t;
    prev = k;
  }
  return undefined;
}

/** Where an expression of `d` passes LIMITS.exprDepth, found without recursion. */
function deepestExpr(d: A.Decl): Span | undefined {
  const roots: A.Expr[] = [];
  switch (d.kind) {
    case 'const':
      roots.push(d.value);
      break;
    case 'dim':
      if (d.value) roots.push(d.value);
      break;
    case 'input':
      roots.push(d.shape);
      break;
    case 'block':
      for (const p of d.params) if (p.default) roots.push(p.default);
      for (const m of d.members) {
        if (m.kind === 'param') {
          roots.push(m.shape);
          if (m.init) roots.push(m.init);
        } else roots.push(m.value);
      }
      for (const st of d.forward?.body ?? []) roots.push(st.value);
      break;
    case 'settings':
      for (const s of [...d.settings, ...d.groups.flatMap((g) => g.settings)]) roots.push(s.value);
      break;
    default:
      break;
  }
  const stack: [A.Expr, number][] = roots.map((e) => [e, 1]);
  while (stack.length) {
    const [e, depth] = stack.pop()!;
    if (depth > LIMITS.exprDepth) return e.span;
    const push = (x: A.Expr | undefined) => {
      if (x) stack.push([x, depth + 1]);
    };
    switch (e.kind) {
      case 'list':
      case 'tuple':
        e.items.forEach(push);
        break;
      case 'unary':
        push(e.operand);
        break;
      case 'binary':
        push(e.left);
        push(e.right);
        break;
      case 'if':
        push(e.cond);
        push(e.then);
        push(e.else);
        break;
      case 'call':
        push(e.callee);
        for (const a of e.args) push(a.value);
        break;
      case 'member':
        push(e.object);
        break;
      case 'index':
        push(e.object);
        for (const ix of e.indices) {
          if (ix.kind === 'at') push(ix.value);
          else {
            push(ix.start);
            push(ix.end);
          }
        }
        break;
      default:
        break;
    }
  }
  return undefined;
}
