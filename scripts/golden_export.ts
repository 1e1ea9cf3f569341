// Writes the golden requests (inputs + parameters of every case in test/goldens/cases.ts) for torch_goldens.py.
// Run: npx vite-node scripts/golden_export.ts [case ...] && /usr/bin/python3 scripts/torch_goldens.py [case ...]
import { CASES } from '../test/goldens/cases.js';
import { buildCase, caseFeeds } from '../test/goldens/harness.js';
import { writeFixture } from '../test/goldens/fixtures.js';
import { MODEL_CASE, buildModelCase, modelFeeds, modelMeta } from '../test/goldens/model-case.js';

const only = process.argv.slice(2);
for (const c of CASES) {
  if (only.length && !only.includes(c.name)) continue;
  const b = buildCase(c);
  const meta = c.train ? { train: c.train, groups: Object.fromEntries(b.graph.params.map((p) => [p.name, { group: p.group, frozen: p.frozen }])) } : undefined;
  writeFixture(c.name, caseFeeds(c, b), meta);
  console.log(`exported ${c.name}`);
}

if (!only.length || only.includes(MODEL_CASE)) {
  const m = buildModelCase();
  writeFixture(MODEL_CASE, modelFeeds(m), modelMeta(m));
  console.log(`exported ${MODEL_CASE}`);
}
