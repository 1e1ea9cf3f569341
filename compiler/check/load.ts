// Loads a spec and its imports into one Program: resolves import paths, detects cycles, and merges
// declarations (a later file replaces what it imports under the same name; a name declared twice in one file is an error).
// Reading is bounded: only regular files (checked with `stat` before opening: no FIFO, device, socket or /proc file),
// at most LIMITS.specBytes each and LIMITS.totalSpecBytes together, LIMITS.files files, imports LIMITS.importDepth
// deep; and imports stay inside the project (importRoots) unless SMCIRC_ALLOW_IMPORT_OUTSIDE=1.

import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as A from '../../grammar/ast.js';
import { diag, didYouMean, type Code, type Diagnostic, type Span } from '../../grammar/diagnostics.js';
import { parseSmcir } from '../../grammar/to-ast.js';
import { fmtBytes, LIMITS } from './limits.js';
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

/** A file that exists but is not read: not a regular file, or too large. */
export interface ReadRefusal {
  refused: Code;
  message: string;
  hint: string;
}

/** The text of a file; undefined if it cannot be read; or why it was refused without reading it. */
export type ReadFile = (path: string) => string | undefined | ReadRefusal;

const isRefusal = (r: string | undefined | ReadRefusal): r is ReadRefusal => typeof r === 'object' && r !== null;

/** What `st` is, for a message: "a folder", "a character device", "a FIFO (named pipe)", ... */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Pseudo file systems whose files claim a size of 0 (or any size) and may never end. */
const PSEUDO = ['/proc', '/sys', '/dev'];

/**
 * Reads a spec file from disk, refusing — before opening it — anything that is not a regular file (a folder, a device,
 * a FIFO, a socket, a /proc or /sys file) and anything larger than LIMITS.specBytes. Never blocks on a pipe.
 */
export function readSpecFile(path: string): string | undefined | ReadRefusal {
  let st: Stats;
  let real: string;
  try {
    st = statSync(path);
    real = realpathSync(path);
  } catch {
    return undefined;
  }
  const notRegular = (what: string): ReadRefusal => ({
    refused: 'SMC2022',
    message: `\`${path}\` is ${what}, not a spec file; it was not opened`,
    hint: 'name a .smcir file (a regular file); to use generated text, write it to a file first',
  });
  if (!st.isFile()) return notRegular(kindOf(st));
  if (PSEUDO.some((p) => real === p || real.startsWith(`${p}/`))) return notRegular(`a file of the ${real.split('/')[1]} pseudo file system`);
  const tooLarge = (size: string): ReadRefusal => ({
    refused: 'SMC1005',
    message: `\`${path}\` is ${size}, more than the ${fmtBytes(LIMITS.specBytes)} a spec file may have; it was not read`,
    hint: 'a spec describes a model in a few hundred lines; is this the right file?',
  });
  if (st.size > LIMITS.specBytes) return tooLarge(`${fmtBytes(st.size)} (${st.size.toLocaleString('en-US')} bytes)`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    // The file may have been replaced or may grow between stat and read: read at most one byte more than allowed.
    if (!fstatSync(fd).isFile()) return notRegular('not a regular file');
    const buf = Buffer.alloc(LIMITS.specBytes + 1);
    let n = 0;
    for (;;) {
      const k = readSync(fd, buf, n, buf.length - n, n);
      if (k === 0) break;
      n += k;
      if (n === buf.length) return tooLarge(`more than ${fmtBytes(LIMITS.specBytes)}`);
    }
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The smcirc package's own specs/ folder (the built-in specs and specs/lib), which any spec may import. */
let builtinSpecs: string | undefined | null = null;
export function builtinSpecsDir(): string | undefined {
  if (builtinSpecs !== null) return builtinSpecs;
  builtinSpecs = undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      if (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === 'smcirc' && existsSync(join(dir, 'specs'))) {
        builtinSpecs = join(dir, 'specs');
        break;
      }
    } catch {
      // not the package root
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return builtinSpecs;
}

/** Files that mark the top of a project: a repository, a package, a run folder (run.json), a bundle (manifest.json). */
const PROJECT_MARKERS = ['.git', 'package.json', 'run.json', 'manifest.json'];

/**
 * The folders a spec's imports must stay inside: its project (the nearest folder at or above the entry's that holds a
 * project marker — never the file-system root or the home folder — or else the entry's own folder) and smcirc's
 * specs/ folder.
 */
export function importRoots(entry: string): string[] {
  const start = dirname(resolve(entry));
  let project = start;
  const home = homedir();
  for (let dir = start; ; dir = dirname(dir)) {
    if (dir === dirname(dir) || dir === home) break;
    if (PROJECT_MARKERS.some((m) => existsSync(join(dir, m)))) {
      project = dir;
      break;
    }
  }
  const roots = [project];
  const b = builtinSpecsDir();
  if (b) roots.push(b);
  return roots;
}

const within = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Reads `entry` and everything it imports. Never throws on bad input. */
export function loadProgram(entry: string, readFile: ReadFile, entryText?: string, opts: { allowImportOutside?: boolean } = {}): { program: Program; diagnostics: Diagnostic[] } {
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
  const allowOutside = opts.allowImportOutside ?? (!!process.env.SMCIRC_ALLOW_IMPORT_OUTSIDE && process.env.SMCIRC_ALLOW_IMPORT_OUTSIDE !== '0');
  const roots = importRoots(entry);
  const realRoots = roots.map(realOrSelf);
  let totalBytes = 0;

  /** Why an import may not be opened, or undefined if it may. */
  const refuseImport = (path: string, written: string): [string, string] | undefined => {
    if (allowOutside) return undefined;
    const real = existsSync(path) ? realOrSelf(path) : undefined;
    const inside = real !== undefined ? realRoots.some((r) => within(r, real)) : roots.some((r) => within(r, path));
    if (!inside) {
      const where = roots.map((r) => `\`${relative(process.cwd(), r) || '.'}\``).join(' or ');
      return [
        `\`${written}\` is outside the project (${where}); it was not opened`,
        'imports stay inside the entry spec’s project (the folder holding .git, package.json, run.json or manifest.json, else the entry’s folder) or smcirc’s specs/; copy the file there, or set SMCIRC_ALLOW_IMPORT_OUTSIDE=1',
      ];
    }
    if (!/\.smcir$/.test(path)) return [`\`${written}\` is not a .smcir file; it was not opened`, 'imports name .smcir spec files'];
    return undefined;
  };

  const visit = (path: string, stack: string[], importSpan?: Span, text?: string, written?: string): void => {
    if (stack.includes(path)) {
      const cycle = [...stack.slice(stack.indexOf(path)), path].map(shortName).join(' → ');
      diagnostics.push(diag('SMC2008', `cyclic import: ${cycle}`, importSpan, 'remove one of these imports; shared parts can move to a file that both import'));
      return;
    }
    if (done.has(path)) return;
    const where: Span = importSpan ?? { file: path, line: 1, column: 1 };
    if (importSpan) {
      const refused = refuseImport(path, written ?? path);
      if (refused) {
        diagnostics.push(diag('SMC2021', refused[0], importSpan, refused[1]));
        return;
      }
      if (stack.length >= LIMITS.importDepth) {
        diagnostics.push(diag('SMC1005', `imports nest more than ${LIMITS.importDepth} deep`, importSpan, 'import the shared files from one place instead of through a long chain'));
        return;
      }
      if (program.sources.size >= LIMITS.files) {
        diagnostics.push(diag('SMC1005', `the spec loads more than ${LIMITS.files} files`, importSpan, 'a spec and its imports are a handful of files; is an import generated?'));
        return;
      }
    }
    const read = text ?? readFile(path);
    if (read === undefined) {
      diagnostics.push(diag('SMC2007', `cannot read \`${written ?? path}\``, importSpan, importSpan ? 'import paths are relative to the importing file' : 'check the path of the spec file'));
      return;
    }
    if (isRefusal(read)) {
      diagnostics.push(diag(read.refused, read.message.replace(`\`${path}\``, `\`${written ?? path}\``), where, read.hint));
      return;
    }
    const src = read;
    const bytes = Buffer.byteLength(src, 'utf8');
    if (bytes > LIMITS.specBytes) {
      diagnostics.push(diag('SMC1005', `\`${written ?? path}\` is ${fmtBytes(bytes)}, more than the ${fmtBytes(LIMITS.specBytes)} a spec file may have`, where, 'a spec describes a model in a few hundred lines; is this the right file?'));
      return;
    }
    if ((totalBytes += bytes) > LIMITS.totalSpecBytes) {
      diagnostics.push(diag('SMC1005', `the spec's files hold more than ${fmtBytes(LIMITS.totalSpecBytes)} together`, where, 'a spec and its imports are a handful of small files; is an import generated?'));
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
