// `smcirc explain [code]`: what an error code means — what went wrong, a minimal example, the fix. Accepts
// `SMC3001`, `smcir3001` and `3001`; with no code it lists every code with its title.

import { EXPLANATIONS } from '../error-catalogue.js';
import { UsageError } from '../errors.js';

const WIDTH = 100;

const SERIES: [prefix: string, title: string][] = [
  ['SMC1', 'SMC1xxx  syntax'],
  ['SMC2', 'SMC2xxx  names, imports, declarations'],
  ['SMC3', 'SMC3xxx  types and shapes'],
  ['SMC40', 'SMC40xx  GPU'],
  ['SMC41', 'SMC41xx  kernels'],
  ['SMC5', 'SMC5xxx  training, checkpoints, bundles'],
  ['SMC6', 'SMC6xxx  data'],
];

/** `3001`, `smcir3001`, `SMC3001`, `smc-3001` → `SMC3001`; undefined if it does not look like a code. */
export function normalizeCode(input: string): string | undefined {
  const m = /^\s*(?:smc(?:ir)?[-_ ]?)?(\d{4})\s*$/i.exec(input);
  return m ? `SMC${m[1]}` : undefined;
}

/** The full explanation of `code` (already normalised), or undefined if there is no such code. */
export function explanation(code: string): string | undefined {
  const e = EXPLANATIONS[code];
  if (!e) return undefined;
  return [
    `${code}: ${e.title}`,
    '',
    ...wrap(e.what, '  '),
    '',
    'Example:',
    ...e.example.map((l) => `    ${l}`),
    '',
    'Fix:',
    ...wrap(e.fix, '  '),
    '',
  ].join('\n');
}

/** Every code with its title, by series. */
export function codeList(): string {
  const codes = Object.keys(EXPLANATIONS).sort();
  const lines: string[] = [];
  for (const [prefix, title] of SERIES) {
    const mine = codes.filter((c) => c.startsWith(prefix));
    if (!mine.length) continue;
    lines.push(title);
    for (const c of mine) lines.push(`  ${c}  ${EXPLANATIONS[c]!.title}`);
    lines.push('');
  }
  lines.push('`smcirc explain <code>` explains one, with an example and the fix (SMC3001, smcir3001 and 3001 all work).');
  return `${lines.join('\n')}\n`;
}

/** Writes the explanation (or, with no code, the list); unknown codes are a usage error (exit 2). */
export function runExplain(input: string | undefined, out: (s: string) => void = (s) => process.stdout.write(s)): number {
  if (input === undefined) {
    out(codeList());
    return 0;
  }
  const code = normalizeCode(input);
  const text = code && explanation(code);
  if (text) {
    out(text);
    return 0;
  }
  if (!code) throw new UsageError(`\`${input}\` is not an error code`, 'codes look like SMC3001 (smcir3001 and 3001 work too); `smcirc explain` with no code lists them all');
  throw new UsageError(`there is no error code ${code}`, `nearby codes: ${nearby(code).join(', ')}; \`smcirc explain\` with no code lists them all with their titles`);
}

/** The codes closest to `code`: of its own series (its first digit) first, then by numeric distance. */
function nearby(code: string, n = 4): string[] {
  const num = Number(code.slice(3));
  const key = (c: string) => (c[3] === code[3] ? 0 : 1e6) + Math.abs(Number(c.slice(3)) - num);
  return Object.keys(EXPLANATIONS)
    .sort((a, b) => key(a) - key(b) || a.localeCompare(b))
    .slice(0, n)
    .sort();
}

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}
