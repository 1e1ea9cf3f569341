// Writes the golden requests (inputs + parameters of every case in test/goldens/cases.ts, the BERT encoder case and
// the whole-model cases) for torch_goldens.py.
// Run: npx vite-node scripts/golden_export.ts [case ...] && /usr/bin/python3 scripts/torch_goldens.py [case ...]
import { CASES } from '../test/goldens/cases.js';
import { buildCase, caseFeeds } from '../test/goldens/harness.js';
import { writeFixture } from '../test/goldens/fixtures.js';
import { MODEL_CASES, buildModelCase, modelFeeds, modelMeta } from '../test/goldens/model-case.js';
import { BERT_CASE, bertFeeds, bertMeta, buildBertCase } from '../test/goldens/bert-case.js';

const only = process.argv.slice(2);
const wanted = (name: string): boolean => !only.length || only.includes(name);
for (const c of CASES) {
  if (!wanted(c.name)) continue;
  const b = buildCase(c);
  const meta = c.train ? { train: c.train, groups: Object.fromEntries(b.graph.params.map((p) => [p.name, { group: p.group, frozen: p.frozen }])) } : undefined;
  writeFixture(c.name, caseFeeds(c, b), meta);
  console.log(`exported ${c.name}`);
}

if (wanted(BERT_CASE)) {
  const b = buildBertCase();
  writeFixture(BERT_CASE, bertFeeds(b), bertMeta(b));
  console.log(`exported ${BERT_CASE}`);
}

for (const def of MODEL_CASES) {
  if (!wanted(def.name)) continue;
  const m = buildModelCase(def);
  writeFixture(def.name, modelFeeds(m), modelMeta(m));
  console.log(`exported ${def.name}`);
}
