// The Slurm path on a real single-node Slurm (scripts/slurm/local-cluster.sh: munge, slurmctld and slurmd as root, all
// state in a temporary folder): `smcirc sweep --slurm --submit --wait` runs four cells as a job array whose tasks are
// `smcirc sweep --worker`, and `smcirc table` collects them. Without the Slurm binaries (or root) it says why and skips
// — and fails instead under SMCIRC_REQUIRE_GPU=1, the switch CI sets, so that a green CI means this path ran.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT, smcirc } from '../e2e/cli.js';
import { cellsOf, claimsOf, FAST, TINY } from './helpers.js';

const REQUIRED = process.env.SMCIRC_REQUIRE_GPU === '1';
const SCRIPT = join(ROOT, 'scripts/slurm/local-cluster.sh');

function slurmSkipReason(): string | undefined {
  const missing = ['sbatch', 'squeue', 'sinfo', 'scancel', 'slurmctld', 'slurmd', 'munged', 'mungekey'].filter((b) => spawnSync('sh', ['-c', `command -v ${b}`], { env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).status !== 0);
  const reason = missing.length
    ? `no ${missing.join(', ')} on PATH (as root: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge)`
    : process.getuid?.() !== 0
      ? 'not root (the local cluster runs its daemons as root, SlurmUser=root)'
      : undefined;
  if (!reason) return undefined;
  if (REQUIRED) throw new Error(`SMCIRC_REQUIRE_GPU=1 but the Slurm test cannot run: ${reason}`);
  console.warn(`Slurm sweep test skipped: ${reason} (set SMCIRC_REQUIRE_GPU=1 to make this a failure)`);
  return reason;
}

const reason = slurmSkipReason();
const cluster = mkdtempSync(join(tmpdir(), 'smcirc-slurm-'));
const env = { SLURM_CONF: join(cluster, 'slurm.conf') };

describe.skipIf(!!reason)('smcirc sweep on a real single-node Slurm', () => {
  beforeAll(() => {
    const t0 = performance.now();
    const out = execFileSync('bash', [SCRIPT, 'up', cluster], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    expect(out.trim()).toBe(`export SLURM_CONF=${env.SLURM_CONF}`);
    console.log(`local Slurm up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });
  afterAll(() => {
    execFileSync('bash', [SCRIPT, 'down', cluster], { env: { ...process.env, ...env }, stdio: 'inherit' });
    for (const f of ['slurmctld.pid', 'slurmd.pid', 'munged.pid']) expect(existsSync(join(cluster, f)), f).toBe(false);
    rmSync(cluster, { recursive: true, force: true });
  });

  test('four cells as a job array of --worker tasks; smcirc table collects them', async () => {
    const out = join(cluster, 'sweep');
    const t0 = performance.now();
    const r = await smcirc(['sweep', 'specs/smcir-tiny.smcir', '--grid', 'eta=0.4,0.6', '--seeds', '1111-1112', ...FAST, ...TINY, '--out', out, '--slurm', '--submit', '--wait', '--sbatch-arg', '--time=10'], { env });
    console.log(`Slurm sweep of 4 cells: ${((performance.now() - t0) / 1000).toFixed(1)} s\n${r.stdout}`);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('(4 array tasks, one worker each)');
    const job = /submitted job (\d+)/.exec(r.stdout)?.[1];
    expect(job).toBeDefined();
    expect(r.stdout).toContain(`job ${job} has ended`);
    expect(r.stdout).toContain('4 of 4 cells finished');

    const script = readFileSync(join(out, 'slurm/sweep.sbatch'), 'utf8');
    expect(script).toMatch(/^#SBATCH --array=0-3$/m);
    expect(script).toMatch(/^#SBATCH --time=10$/m);
    expect(script).toMatch(new RegExp(`^exec \\S+ \\S+/bin/smcirc\\.js sweep --worker ${out}$`, 'm'));
    // the tasks' outputs, and claims made inside the job array: each cell once, by a task of this job
    const outputs = readdirSync(join(out, 'slurm')).filter((f) => f.endsWith('.out'));
    expect(outputs.sort()).toEqual([0, 1, 2, 3].map((t) => `${job}_${t}.out`));
    for (const { id } of cellsOf(out)) {
      const gens = claimsOf(out, id);
      expect(gens.map((g) => [g.n, g.end?.status]), id).toEqual([[1, 'finished']]);
      expect((gens[0]!.claim.slurm as { array_job?: string }).array_job).toBe(job);
    }
    const tasks = new Set(cellsOf(out).map(({ id }) => (claimsOf(out, id)[0]!.claim.slurm as { task: string }).task));
    console.log(`cells ran in array tasks ${[...tasks].sort().join(', ')}`);

    const t = await smcirc(['table', out, '--metrics', 'Has0_acc_2,MAE', '--conditions', 'LVA,L']);
    expect(t.code, t.stderr).toBe(0);
    console.log(t.stdout);
    const lines = t.stdout.split('\n');
    expect(lines[0]).toMatch(/^\| eta +\| LVA Has0_acc_2 \| +LVA MAE \| +L Has0_acc_2 \| +L MAE \|$/);
    expect(lines[2]).toMatch(/^\| 0\.4 +\| +\d+\.\d\d ± \d+\.\d\d \| \d\.\d{3} ± \d\.\d{3} \|/);
    expect(lines[3]).toMatch(/^\| 0\.6 +\| +\d+\.\d\d ± \d+\.\d\d \| \d\.\d{3} ± \d\.\d{3} \|/);
    expect(t.stdout).not.toContain('—');
  });
});
