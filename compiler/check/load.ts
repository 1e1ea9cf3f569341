// Loads a spec and its imports into one Program: resolves import paths, detects cycles, and merges
// declarations (a later file replaces what it imports under the same name; a name declared twice in one file is an error).

import { dirname, resolve } from 'node:path';
import type * as A from '../../grammar/ast.js';
import { diag, didYouMean, type Diagnostic, type Span } from '../../grammar/diagnostics.js';
import { parseSmcir } from '../../grammar/to-ast.js';
import { collectNames } from './names.js';

const PARAM_TYPES: string[] = ['int', 'float', 'str', 'bool'];

export type ConstDecl = Extract<A.Decl, { kind: 'const' }>;
export type DimDecl = Extract<A.Decl, { kind: 'dim' }>;
export type InputDecl = Extract<A.Decl, { kind: 'input' }>;
export type BlockDecl = Extract<A.Decl, { kind: 'block' }>;

/** A merged settings section: each key keeps the expression that won, with its span. */
export interface SettingsSection {
  name: string;
  span: Span;
  values: Map<string, A.Setting>;
  groups: Map<string, A.SettingsGroup>;
}

export interface Program {
  entry: string;
  /** Every file read, path → text (for printing diagnostics). */
  sources: Map<string, string>;
  consts: Map<string, ConstDecl>;
  dims: Map<string, DimDecl>;
  inputs: Map<string, InputDecl>;
  blocks: Map<string, BlockDecl>;
  model?: BlockDecl;
  sections: Map<string, SettingsSection>;
  /** Every `const` (or `--set`) that replaced an earlier declaration, with the one it replaced, in load order. */
  replaced: { decl: ConstDecl; original: ConstDecl }[];
  /** Constants that a file with imports declares without replacing an imported one (typos of an override?). */
  added: { decl: ConstDecl; imported: string[] }[];
  /** Every name some expression refers to, in any file (see names.ts). */
  referenced: Set<string>;
}

export type ReadFile = (path: string) => string | undefined;

/** Reads `entry` and everything it imports. Never throws on bad input. */
export function loadProgram(entry: string, readFile: ReadFile, entryText?: string): { program: Program; diagnostics: Diagnostic[] } {
  const program: Program = {
    entry,
    sources: new Map(),
    consts: new Map(),
    dims: new Map(),
    inputs: new Map(),
    blocks: new Map(),
    sections: new Map(),
    replaced: [],
    added: [],
    referenced: new Set(),
  };
  const diagnostics: Diagnostic[] = [];
  const done = new Set<string>();

  const visit = (path: string, stack: string[], importSpan?: Span, text?: string, written?: string): void => {
    if (stack.includes(path)) {
      const cycle = [...stack.slice(stack.indexOf(path)), path].map(shortName).join(' → ');
      diagnostics.push(diag('SMC2008', `cyclic import: ${cycle}`, importSpan, 'remove one of these imports; shared parts can move to a file that both import'));
      return;
    }
    if (done.has(path)) return;
    const src = text ?? readFile(path);
    if (src === undefined) {
      diagnostics.push(diag('SMC2007', `cannot read \`${written ?? path}\``, importSpan, importSpan ? 'import paths are relative to the importing file' : 'check the path of the spec file'));
      return;
    }
    program.sources.set(path, src);
    const { ast, diagnostics: parseDiags } = parseSmcir(src, path);
    diagnostics.push(...parseDiags);
    // Imports first, so this file's declarations replace theirs.
    for (const d of ast.decls) {
      if (d.kind === 'import') visit(resolve(dirname(path), d.path), [...stack, path], d.span, undefined, d.path);
    }
    const importing = ast.decls.some((d) => d.kind === 'import');
    const imported = [...program.consts.keys()];
    for (const d of ast.decls) collectNames(d, program.referenced);
    const seen = new Map<string, Span>();
    const once = (name: string, span: Span, what: string): boolean => {
      const prev = seen.get(name);
      if (prev) {
        diagnostics.push(diag('SMC2002', `${what} \`${name}\` is declared twice in this file (first at line ${prev.line})`, span, 'rename one, or delete the duplicate'));
        return false;
      }
      seen.set(name, span);
      return true;
    };
    for (const d of ast.decls) {
      switch (d.kind) {
        case 'import':
          break;
        case 'const': {
          if (!once(d.name.name, d.name.span, 'constant')) break;
          const original = program.consts.get(d.name.name);
          if (original) program.replaced.push({ decl: d, original });
          else if (importing) program.added.push({ decl: d, imported });
          program.consts.set(d.name.name, d);
          break;
        }
        case 'dim':
          if (once(d.name.name, d.name.span, 'dimension')) program.dims.set(d.name.name, d);
          break;
        case 'input':
          if (once(d.name.name, d.name.span, d.target ? 'target' : 'input')) program.inputs.set(d.name.name, d);
          break;
        case 'block':
          if (!once(d.name.name, d.name.span, d.model ? 'model' : 'block')) break;
          for (const prm of d.params) {
            if (prm.type && !PARAM_TYPES.includes(prm.type)) {
              diagnostics.push(diag('SMC2003', `unknown type \`${prm.type}\` for block parameter \`${prm.name.name}\``, prm.name.span, didYouMean(prm.type, PARAM_TYPES) ?? `use one of ${PARAM_TYPES.join(', ')}, or leave the type out`));
            }
          }
          if (d.model) program.model = d;
          else program.blocks.set(d.name.name, d);
          break;
        case 'settings': {
          if (!once(`${d.section.name}{}`, d.section.span, 'section')) break;
          const sec = program.sections.get(d.section.name) ?? { name: d.section.name, span: d.span, values: new Map(), groups: new Map() };
          sec.span = d.span;
          for (const s of d.settings) sec.values.set(s.key.name, s);
          for (const g of d.groups) sec.groups.set(g.name.name, g);
          program.sections.set(d.section.name, sec);
          break;
        }
      }
    }
    done.add(path);
  };

  visit(resolve(entry), [], undefined, entryText);
  program.entry = resolve(entry);
  return { program, diagnostics };
}

function shortName(p: string): string {
  return p.split('/').pop() ?? p;
}
