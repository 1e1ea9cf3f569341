// Whether the browser tests can run: Debian's Chromium binary and playwright-core to drive it. Without them the
// tests print why and skip — or, under SMCIRC_REQUIRE_GPU=1 (the CI switch, as in gpu-gate.ts), they fail.

import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export const CHROMIUM_REQUIRED = process.env.SMCIRC_REQUIRE_GPU === '1';
/** The browser binary: Debian's `chromium` package, or SMCIRC_CHROMIUM. */
export const CHROMIUM = process.env.SMCIRC_CHROMIUM || '/usr/bin/chromium';
/** Launch flags: as root Chromium refuses to start without --no-sandbox; small containers have a small /dev/shm. */
export const CHROMIUM_ARGS = [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage'];

function unavailable(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (on Debian, as root: apt-get install chromium; bash scripts/setup.sh does it)`;
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    return `${CHROMIUM} is not executable`;
  }
  try {
    createRequire(import.meta.url).resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm ci installs it)';
  }
  return undefined;
}

/** undefined when the browser tests can run; otherwise the reason they skip (printed). Throws when required. */
export function chromiumSkipReason(what: string): string | undefined {
  const reason = unavailable();
  if (!reason) return undefined;
  if (CHROMIUM_REQUIRED) throw new Error(`SMCIRC_REQUIRE_GPU=1 but the ${what} cannot run: ${reason}`);
  console.warn(`${what} skipped: ${reason} (set SMCIRC_REQUIRE_GPU=1 to make this a failure)`);
  return reason;
}
