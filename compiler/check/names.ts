// The names a declaration's expressions refer to, found by walking the AST (not by evaluating it, so a name in
// an `if` branch that is not taken still counts): what the "constant used nowhere" check looks at.

import type * as A from '../../grammar/ast.js';

/** Adds to `into` every name that an expression of `d` refers to (locals that shadow a global included). */
export function collectNames(d: A.Decl, into: Set<string>): void {
  const expr = (e: A.Expr | undefined): void => {
    if (!e) return;
    switch (e.kind) {
      case 'num':
      case 'str':
      case 'bool':
        return;
      case 'name':
        into.add(e.name);
        return;
      case 'list':
      case 'tuple':
        e.items.forEach(expr);
        return;
      case 'unary':
        expr(e.operand);
        return;
      case 'binary':
        expr(e.left);
        expr(e.right);
        return;
      case 'if':
        expr(e.cond);
        expr(e.then);
        expr(e.else);
        return;
      case 'call':
        expr(e.callee);
        for (const a of e.args) expr(a.value);
        return;
      case 'member':
        expr(e.object);
        return;
      case 'index':
        expr(e.object);
        for (const i of e.indices) {
          if (i.kind === 'at') expr(i.value);
          else {
            expr(i.start);
            expr(i.end);
          }
        }
        return;
    }
  };
  const settings = (ss: A.Setting[]): void => ss.forEach((s) => expr(s.value));
  switch (d.kind) {
    case 'import':
      return;
    case 'const':
      return expr(d.value);
    case 'dim':
      return expr(d.value);
    case 'input':
      return expr(d.shape);
    case 'block':
      for (const p of d.params) expr(p.default);
      for (const m of d.members) {
        if (m.kind === 'instance') expr(m.value);
        else {
          expr(m.shape);
          expr(m.init);
        }
      }
      for (const st of d.forward?.body ?? []) expr(st.value);
      return;
    case 'settings':
      settings(d.settings);
      for (const g of d.groups) settings(g.settings);
      return;
  }
}

/** The names one expression refers to (for `--set` values). */
export function namesIn(e: A.Expr): Set<string> {
  const out = new Set<string>();
  collectNames({ kind: 'const', name: { name: '', span: e.span }, value: e, span: e.span }, out);
  return out;
}
