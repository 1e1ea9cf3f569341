// `npm run bench`'s peer section (alone: `npm run bench:peer`): smcirc's train step against the one a user would run
// instead, PyTorch eager on the same machine in the same run — the released per-sample form and the batched form —
// at two sizes, smcir-tiny at batch 8 and the CMU-MOSI-size smcir at batch 4. smcirc runs in a child process per size
// and CPU thread count (bench/peer-smcirc.ts: a clean peak RSS) and exports its weights and batch, which
// bench/peer/smcir_step.py loads.
//   options: --peer (this section only), --no-peer, --peer-sizes=tiny,mosi, --peer-threads=2,1
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild, withInterruptCleanup } from './peer-child.js';
import { findTorchPython, runPeer, type TorchPython } from './peer-python.js';
import type { SmcircFigure } from './peer-smcirc.js';
import { formatPeerTable, formatSameModel, type PeerRow, type PeerSizeResult, type SmcircRow } from './peer-table.js';

export type PeerSize = 'tiny' | 'mosi';

export const PEER_SIZES: Record<PeerSize, { spec: string; label: string; batch: number; steps: number; quickSteps: number }> = {
  tiny: { spec: 'specs/smcir-tiny.smcir', label: 'smcir-tiny', batch: 8, steps: 10, quickSteps: 3 },
  // a MOSI-size step takes 10–40 s on lavapipe (2 cores): few steps
  mosi: { spec: 'specs/smcir.smcir', label: 'smcir (MOSI)', batch: 4, steps: 3, quickSteps: 2 },
};

export interface PeerOptions {
  /** Only the peer section (`npm run bench:peer`). */
  only: boolean;
  /** No peer section. */
  skip: boolean;
  quick: boolean;
  sizes: PeerSize[];
  /** CPU thread counts: one PyTorch row per form and count, and on lavapipe one smcirc row per count (LP_NUM_THREADS);
   *  default every core, then 1 (on a busy shared box, one thread each is the fairer pairing). */
  threads: number[];
}

export function peerOptionsFromArgv(argv: string[], cores = availableParallelism()): PeerOptions {
  const value = (k: string): string | undefined => argv.find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1);
  const sizes = (value('--peer-sizes') ?? 'tiny,mosi').split(',').filter(Boolean);
  for (const s of sizes) if (!Object.hasOwn(PEER_SIZES, s)) throw new Error(`--peer-sizes: unknown size ${s} (tiny, mosi)`);
  const threads = value('--peer-threads')?.split(',').map(Number) ?? [cores, ...(cores > 1 ? [1] : [])];
  for (const t of threads) if (!Number.isInteger(t) || t < 1) throw new Error('--peer-threads: whole numbers ≥ 1, comma-separated');
  return { only: argv.includes('--peer'), skip: argv.includes('--no-peer'), quick: argv.includes('--quick'), sizes: sizes as PeerSize[], threads: [...new Set(threads)] };
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./peer-smcirc.js', import.meta.url));
const SCRIPT = join(ROOT, 'bench/peer/smcir_step.py');

async function measureSmcircChild(spec: string, batch: number, steps: number, out: string, threads: number): Promise<SmcircRow> {
  const args = [CHILD, join(ROOT, spec), '--batch', String(batch), '--steps', String(steps), '--out', out];
  const p = await runChild(process.execPath, args, { env: { ...process.env, LP_NUM_THREADS: String(threads) }, passStderr: true });
  const line = p.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (p.status !== 0 || !line) return { error: `peer-smcirc exited with ${p.status ?? p.signal ?? p.error?.message}`, threads };
  return JSON.parse(line) as SmcircFigure;
}

const say = (s: string): void => {
  process.stderr.write(`peer: ${s}\n`);
};

/** Runs the section and prints it; `python` is found when not given. Never throws for a missing torch. */
export async function runPeerSection(o: PeerOptions, python: TorchPython = findTorchPython()): Promise<PeerSizeResult[]> {
  console.log('\nsmcirc vs PyTorch eager on this machine (one train step: forward + DMFD + L1 + backward + clip(2) + Adam, eval mode;');
  console.log('median after one warm-up step; the same weights and batch on both sides; peer / smcirc > 1: smcirc is faster):');
  if ('skip' in python) {
    console.log(python.skip);
    return [];
  }
  const tmp = mkdtempSync(join(tmpdir(), 'smcirc-peer-'));
  const results = await withInterruptCleanup(() => rmSync(tmp, { recursive: true, force: true }), async () => {
    const all: PeerSizeResult[] = [];
    for (const size of o.sizes) {
      const z = PEER_SIZES[size];
      const steps = o.quick ? z.quickSteps : z.steps;
      const smcirc: SmcircRow[] = [];
      const peers: PeerRow[] = [];
      for (const [i, threads] of o.threads.entries()) {
        // lavapipe runs on the CPU: smcirc at each thread count (LP_NUM_THREADS); a hardware adapter once
        const first = smcirc.find((x): x is SmcircFigure => !('error' in x));
        if (i === 0 || first?.software) {
          say(`smcirc ${z.label}, batch ${z.batch}, LP_NUM_THREADS=${threads}: ${steps} steps after a warm-up step, in a child process…`);
          smcirc.push(await measureSmcircChild(z.spec, z.batch, steps, tmp, threads));
        }
        const made = smcirc.find((x): x is SmcircFigure => !('error' in x));
        const files = made ? { weights: made.weights, data: made.data } : {};
        for (const form of ['per-sample', 'batched'] as const) {
          say(`PyTorch ${python.torch} (${python.python}) ${z.label}, ${form}, ${threads} thread${threads > 1 ? 's' : ''}: ${steps} steps…`);
          try {
            peers.push(await runPeer(python.python, SCRIPT, { size, batch: z.batch, steps, form, threads, ...files }));
          } catch (e) {
            peers.push({ error: (e as Error).message, form, threads });
          }
        }
      }
      all.push({ label: z.label, batch: z.batch, smcirc, peers });
    }
    return all;
  });
  for (const l of formatPeerTable(results)) console.log(l);
  for (const l of formatSameModel(results)) console.log(l);
  console.log('smcirc\'s GPU buffers live in host memory on a software adapter (lavapipe), so its peak RSS includes them.');
  return results;
}
