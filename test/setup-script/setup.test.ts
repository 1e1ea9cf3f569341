// scripts/setup.sh's decisions (Mesa from bookworm-backports, Debian's chromium), with stand-in apt-get, apt-cache,
// dpkg-query, dpkg, id, node and npm that log each call. The script runs with PATH = the stand-ins + a folder of symlinks to a few plain tools (bash, sed, grep, awk,
// dirname, cat), so no real package manager can be reached; apt sources live in a temp folder.

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { execCapture, type Captured } from '../helpers/exec.js';

const ROOT = join(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/setup.sh');
const TOOLS = ['bash', 'sed', 'grep', 'awk', 'dirname', 'cat'];

function which(name: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} not found`);
}
const BASH = which('bash');

const BPO = '25.0.7-2~bpo12+1';
const CHROMIUM = '143.0.7499.169-1~deb12u1';
const DEB12 = '22.3.6-1+deb12u1';
const SECURITY_STANZA = `Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;
const debianStanza = (suites: string) => `Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: ${suites}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;
/** The deb822 file of a bookworm image, with a placeholder host. */
const debianSources = (suites = 'bookworm bookworm-updates') => `${debianStanza(suites)}\n${SECURITY_STANZA}`;

/** `apt-cache policy mesa-vulkan-drivers` as apt prints it; `padding` more source lines at the end (other mirrors). */
function policy(o: { installed?: string; backports: boolean; padding?: number }): string {
  const lines = [
    'mesa-vulkan-drivers:',
    `  Installed: ${o.installed ?? '(none)'}`,
    `  Candidate: ${o.installed === BPO ? BPO : DEB12}`,
    '  Version table:',
  ];
  if (o.backports) {
    lines.push(`${o.installed === BPO ? ' *** ' : '     '}${BPO} 100`, '        100 http://mirror.example/debian bookworm-backports/main amd64 Packages');
    if (o.installed === BPO) lines.push('        100 /var/lib/dpkg/status');
  }
  lines.push(`${o.installed === DEB12 ? ' *** ' : '     '}${DEB12} 500`, '        500 http://mirror.example/debian bookworm/main amd64 Packages');
  if (o.installed === DEB12) lines.push('        100 /var/lib/dpkg/status');
  for (let i = 0; i < (o.padding ?? 0); i++) lines.push(`        500 http://mirror${i}.example/debian bookworm/main amd64 Packages`);
  return lines.join('\n') + '\n';
}

interface Case {
  uid?: number; // what `id -u` prints (default 0)
  apt?: boolean; // apt-get and apt-cache on PATH (default true)
  mesa?: string; // installed mesa-vulkan-drivers version
  libvulkan1?: boolean;
  chromium?: boolean; // Debian's chromium package installed
  chromiumFails?: boolean; // apt-get install chromium fails (no network, a broken mirror)
  policy?: string; // apt-cache policy output
  debianSources?: string; // sources.list.d/debian.sources (absent when undefined)
  sourcesList?: string; // sources.list (absent when undefined)
  node?: string | null; // `node --version` (default v20.19.0; null: no node)
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  log: string[];
  apt: string[]; // the apt-get/apt-cache calls
  debianSources?: string;
  sourcesList?: string;
}

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

const exec = (cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Captured> => execCapture(cmd, args, { env, cwd: ROOT });

/** A temp machine: stand-ins, tools, state and sources; `sh` runs a bash command line there. */
function machine(c: Case) {
  const dir = mkdtempSync(join(tmpdir(), 'smcirc-setup-'));
  temps.push(dir);
  const [bin, tools, state, aptDir] = ['bin', 'tools', 'state', 'apt'].map((d) => join(dir, d));
  for (const d of [bin, tools, state, join(aptDir, 'sources.list.d')]) mkdirSync(d, { recursive: true });
  for (const t of TOOLS) symlinkSync(which(t), join(tools, t));
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  if (c.mesa) writeFileSync(join(state, 'mesa-vulkan-drivers'), c.mesa);
  if (c.libvulkan1) writeFileSync(join(state, 'libvulkan1'), '1.3.239.0-1');
  if (c.chromium) writeFileSync(join(state, 'chromium'), CHROMIUM);
  writeFileSync(join(dir, 'policy.txt'), c.policy ?? '');
  if (c.debianSources !== undefined) writeFileSync(join(aptDir, 'sources.list.d/debian.sources'), c.debianSources);
  if (c.sourcesList !== undefined) writeFileSync(join(aptDir, 'sources.list'), c.sourcesList);

  const standIn = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!${BASH}\necho "${name} $*" >> '${log}'\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  standIn('id', `case $1 in -u) echo ${c.uid ?? 0} ;; *) echo 'uid=${c.uid ?? 0}' ;; esac`);
  standIn(
    'dpkg-query',
    `pkg=\${!#}; fmt='\${binary:Package}\\t\${Version}\\n'
for a in "$@"; do case $a in -f=*) fmt=\${a#-f=} ;; --showformat=*) fmt=\${a#--showformat=} ;; esac; done
[ -f '${state}'/"$pkg" ] || { echo "dpkg-query: no packages found matching $pkg" >&2; exit 1; }
v=$(< '${state}'/"$pkg")
fmt=\${fmt//'\${Status}'/install ok installed}; fmt=\${fmt//'\${Version}'/$v}; fmt=\${fmt//'\${binary:Package}'/$pkg:amd64}
printf '%b' "$fmt"`,
  );
  // --compare-versions is pure: the real dpkg does it when present, else compare the upstream major version.
  standIn(
    'dpkg',
    `[ "$1" = --compare-versions ] || exit 2
[ -x /usr/bin/dpkg ] && exec /usr/bin/dpkg "$@"
a=\${2%%[!0-9]*}; b=\${4%%[!0-9]*}
case $3 in ge) [ "$a" -ge "$b" ] ;; gt) [ "$a" -gt "$b" ] ;; lt) [ "$a" -lt "$b" ] ;; le) [ "$a" -le "$b" ] ;; *) exit 2 ;; esac`,
  );
  if (c.apt ?? true) {
    standIn(
      'apt-get',
      `case " $* " in *' install '*)
  case " $* " in *' mesa-vulkan-drivers '*)
    case " $* " in *' -t bookworm-backports '*) echo '${BPO}' > '${state}/mesa-vulkan-drivers' ;; *) echo '${DEB12}' > '${state}/mesa-vulkan-drivers' ;; esac
    echo 1.3.239.0-1 > '${state}/libvulkan1' ;;
  esac
  case " $* " in *' chromium '*)
    ${c.chromiumFails ? "echo 'E: Unable to fetch some archives' >&2; exit 100" : `echo '${CHROMIUM}' > '${state}/chromium'`} ;;
  esac ;;
esac`,
    );
    standIn('apt-cache', `[ "$*" = 'policy mesa-vulkan-drivers' ] && exec cat '${join(dir, 'policy.txt')}'`);
  }
  if (c.node !== null) {
    const version = c.node ?? 'v20.19.0';
    standIn('node', `case $1 in -p) echo ${version.replace(/^v(\d+).*/, '$1')} ;; --version) echo ${version} ;; *) exit 1 ;; esac`);
  }
  standIn('npm', 'exit 0');

  const env = {
    PATH: [bin, tools].join(delimiter),
    HOME: dir,
    TMPDIR: dir,
    LC_ALL: 'C',
    SMCIRC_APT_SOURCES_DIR: join(aptDir, 'sources.list.d'),
    SMCIRC_APT_SOURCES_LIST: join(aptDir, 'sources.list'),
  };
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);
  return {
    bin,
    tools,
    sh: (line: string) => exec(BASH, ['-c', line], env),
    clearLog: () => writeFileSync(log, ''),
    async run(): Promise<Run> {
      const r = await exec(BASH, [SCRIPT], env);
      const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      return {
        ...r,
        log: calls,
        apt: calls.filter((l) => /^apt-(get|cache) /.test(l)),
        debianSources: read(join(aptDir, 'sources.list.d/debian.sources')),
        sourcesList: read(join(aptDir, 'sources.list')),
      };
    },
  };
}

const INSTALL_BPO = 'apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers libvulkan1';
const INSTALL_CHROMIUM = 'apt-get install -y -q chromium';
const READY = `vulkan: mesa-vulkan-drivers ${BPO} (bookworm-backports): lavapipe ready`;
const CHROMIUM_READY = `chromium: ${CHROMIUM}`;
const NO_CHROMIUM = 'chromium: not installed (the browser test of smcirc report skips)';
const lastLine = (s: string) => s.trimEnd().split('\n').at(-1);
/** The line before the last: chromium's state. */
const chromiumLine = (s: string) => s.trimEnd().split('\n').at(-2);

describe('scripts/setup.sh', () => {
  test('the stand-in PATH reaches no real package manager', async () => {
    const m = machine({ apt: false });
    expect(readdirSync(m.tools).sort()).toEqual([...TOOLS].sort());
    for (const cmd of ['apt-get', 'apt-cache', 'apt', 'sudo']) expect((await m.sh(`command -v ${cmd}`)).code).toBe(1);
    const n = await m.sh('command -v dpkg-query');
    expect(n.stdout.trim()).toBe(join(m.bin, 'dpkg-query'));
  });

  test('1. fresh machine: adds the suite to the Debian entry, updates, installs from backports', async () => {
    // Security stanza first, odd spacing on the Debian Suites: line; over 1 MiB of policy output after the match.
    const sources = `${SECURITY_STANZA}\n${debianStanza(' bookworm   bookworm-updates  ')}`;
    const m = machine({ debianSources: sources, policy: policy({ backports: true, padding: 16_000 }) });

    // The old detection on this output: grep -q quits at the match, apt-cache dies of SIGPIPE (141), and under
    // pipefail the pipeline fails although the suite is there.
    const old = await m.sh("set -o pipefail; apt-cache policy mesa-vulkan-drivers | grep -q 'bookworm-backports'; echo $?");
    expect(old.stdout.trim()).toBe('141');
    const without = await m.sh("apt-cache policy mesa-vulkan-drivers | grep -q 'bookworm-backports'; echo $?");
    expect(without.stdout.trim()).toBe('0');
    m.clearLog();

    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.apt).toEqual(['apt-get update -q', 'apt-cache policy mesa-vulkan-drivers', INSTALL_BPO, INSTALL_CHROMIUM]); // one update for both
    expect(r.debianSources).toBe(sources.replace('Suites:  bookworm   bookworm-updates  \n', 'Suites:  bookworm   bookworm-updates bookworm-backports\n'));
    expect(r.debianSources).toContain('Suites: bookworm-security\n'); // the security entry is left alone
    expect(r.stdout).toContain('added bookworm-backports to the Suites: line of');
    expect(r.log).toContain('npm ci --no-audit --no-fund');
    expect(chromiumLine(r.stdout)).toBe(CHROMIUM_READY);
    expect(lastLine(r.stdout)).toBe(READY);
  });

  test.each([
    ['one stanza listing the security suite too', debianStanza('bookworm bookworm-updates bookworm-security'), 'bookworm bookworm-updates bookworm-security bookworm-backports'],
    ['the stock two-stanza file', debianSources(), 'bookworm bookworm-updates bookworm-backports'],
    ['a lone bookworm suite with trailing tab', debianSources('bookworm\t'), 'bookworm bookworm-backports'],
  ])('the suite is appended to the Debian Suites: line only (%s)', async (_, sources, suites) => {
    const m = machine({ debianSources: sources, policy: policy({ backports: true }) });
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    const out = r.debianSources!.split('\n');
    expect(out.filter((l) => l.startsWith('Suites:'))).toEqual([`Suites: ${suites}`, ...(sources.includes(SECURITY_STANZA) ? ['Suites: bookworm-security'] : [])]);
    expect(out.filter((l) => !l.startsWith('Suites:'))).toEqual(sources.split('\n').filter((l) => !l.startsWith('Suites:')));
    expect(r.apt).toContain(INSTALL_BPO);
  });

  test('2. Mesa 22 installed: upgrades from backports (suite already listed: sources untouched)', async () => {
    const sources = debianSources('bookworm bookworm-updates bookworm-backports');
    const m = machine({ mesa: DEB12, libvulkan1: true, chromium: true, debianSources: sources, policy: policy({ installed: DEB12, backports: true }) });
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.apt).toEqual(['apt-get update -q', 'apt-cache policy mesa-vulkan-drivers', INSTALL_BPO]); // chromium already there
    expect(r.debianSources).toBe(sources);
    expect(lastLine(r.stdout)).toBe(READY);
  });

  test('3. Mesa 25, libvulkan1 and chromium installed: no apt calls at all', async () => {
    const m = machine({ mesa: BPO, libvulkan1: true, chromium: true, debianSources: debianSources() });
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.apt).toEqual([]);
    expect(r.debianSources).toBe(debianSources());
    expect(r.stderr).toBe('');
    expect(r.log).toContain('npm ci --no-audit --no-fund');
    expect(chromiumLine(r.stdout)).toBe(CHROMIUM_READY);
    expect(lastLine(r.stdout)).toBe(READY);
  });

  test('3b. Mesa 25 installed, no chromium: updates once and installs chromium only', async () => {
    const m = machine({ mesa: BPO, libvulkan1: true, debianSources: debianSources() });
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.apt).toEqual(['apt-get update -q', INSTALL_CHROMIUM]);
    expect(r.debianSources).toBe(debianSources()); // no backports needed for chromium
    expect(r.stderr).toBe('');
    expect(chromiumLine(r.stdout)).toBe(CHROMIUM_READY);
    expect(lastLine(r.stdout)).toBe(READY);
  });

  test('3c. installing chromium fails: a note, and setup goes on', async () => {
    const m = machine({ mesa: BPO, libvulkan1: true, chromiumFails: true, debianSources: debianSources() });
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.apt).toEqual(['apt-get update -q', INSTALL_CHROMIUM]);
    expect(r.stderr).toContain('note: installing chromium failed; the browser test of `smcirc report` skips without it.');
    expect(r.log).toContain('npm ci --no-audit --no-fund');
    expect(chromiumLine(r.stdout)).toBe(NO_CHROMIUM);
    expect(lastLine(r.stdout)).toBe(READY);
  });

  test('4. no backports in the sources and none offered after update: prints how to add it, installs no Mesa', async () => {
    // One-line sources.list only: the script names the line to add (from the user's own entry) and writes nothing.
    const list = '# bookworm\ndeb http://mirror.example/debian bookworm main\ndeb http://mirror.example/debian-security bookworm-security main\n';
    const m = machine({ sourcesList: list, policy: policy({ backports: false }) });
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    // no default Mesa 22: Dawn can't use it; chromium comes from the main suite, with the same update
    expect(r.apt).toEqual(['apt-get update -q', 'apt-cache policy mesa-vulkan-drivers', INSTALL_CHROMIUM]);
    expect(r.sourcesList).toBe(list);
    expect(r.debianSources).toBeUndefined();
    expect(r.stderr).toContain('is in the one-line format; to get a recent Mesa, add this line to it and rerun:');
    expect(r.stderr).toContain('      deb http://mirror.example/debian bookworm-backports main\n');
    expect(r.stderr).toContain('apt offers no mesa-vulkan-drivers >= 23 from bookworm-backports; not installing Mesa.');
    expect(r.log).toContain('npm ci --no-audit --no-fund');
    expect(lastLine(r.stdout)).toBe(
      'vulkan: mesa-vulkan-drivers not installed, libvulkan1 not installed: no lavapipe; Dawn needs a GPU Vulkan driver, else only --backend reference will work',
    );
  });

  test('5. not root: no apt calls, sources untouched, prints what to install', async () => {
    const m = machine({ uid: 1000, mesa: DEB12, libvulkan1: true, debianSources: debianSources(), policy: policy({ backports: true }) });
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.apt).toEqual([]);
    expect(r.debianSources).toBe(debianSources());
    expect(r.stderr).toContain('no recent Vulkan driver found (mesa-vulkan-drivers >= 23 and libvulkan1)');
    expect(r.stderr).toContain('apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1');
    expect(r.stderr).toContain('note: no chromium; the browser test of `smcirc report` skips without it (as root: apt-get install chromium).');
    expect(chromiumLine(r.stdout)).toBe(NO_CHROMIUM);
    expect(lastLine(r.stdout)).toBe(
      `vulkan: mesa-vulkan-drivers ${DEB12}, libvulkan1 1.3.239.0-1: no lavapipe; Dawn needs a GPU Vulkan driver, else only --backend reference will work`,
    );
  });

  test('6. no apt at all: no apt calls, prints the note', async () => {
    const m = machine({ apt: false, debianSources: debianSources() });
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.apt).toEqual([]);
    expect(r.debianSources).toBe(debianSources());
    expect(r.stderr).toContain('apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1');
    expect(r.stderr).toContain('note: no chromium;');
    expect(chromiumLine(r.stdout)).toBe(NO_CHROMIUM);
    expect(lastLine(r.stdout)).toMatch(/^vulkan: mesa-vulkan-drivers not installed, .* only --backend reference will work$/);
  });

  test.each([
    ['node v18', 'v18.19.0', 'found: v18.19.0'],
    ['no node', null, 'found: none'],
  ])('Node gate: %s stops with exit 1 before npm', async (_, node, found) => {
    const m = machine({ mesa: BPO, libvulkan1: true, node });
    const r = await m.run();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`smcirc needs Node.js 20 or newer (${found}).`);
    expect(r.log.some((l) => l.startsWith('npm '))).toBe(false);
  });
});
