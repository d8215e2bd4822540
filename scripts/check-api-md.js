#!/usr/bin/env node
// Fails when API.md differs from what jsii-docgen generates from the current build (.jsii).
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const fresh = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'api-md-')), 'API.md');
execFileSync(path.join(root, 'node_modules', '.bin', 'jsii-docgen'), ['-o', fresh], { cwd: root, stdio: 'inherit' });
const committed = path.join(root, 'API.md');
if (!fs.existsSync(committed) || fs.readFileSync(committed, 'utf8') !== fs.readFileSync(fresh, 'utf8')) {
  console.error('API.md is stale: run `npm run build` and commit API.md');
  process.exit(1);
}
console.log('API.md is up to date');

// Every summary (the first sentence, which API.md and IDEs show alone) must stand alone: jsii cuts it at the first
// ';' as well as at a '.', so a summary ending in ';' reads cut off. And no internal member (`_bind`, `_model`, ...)
// may show up in the reference.
const assembly = JSON.parse(fs.readFileSync(path.join(root, '.jsii'), 'utf8'));
const cut = [];
const summary = (name, docs) => { if (docs?.summary && /;\s*$/.test(docs.summary)) cut.push(`${name}: "${docs.summary}"`); };
for (const [fqn, type] of Object.entries(assembly.types)) {
  summary(fqn, type.docs);
  for (const p of type.initializer?.parameters ?? []) summary(`${fqn}(${p.name})`, p.docs);
  for (const p of type.properties ?? []) summary(`${fqn}.${p.name}`, p.docs);
  for (const m of type.methods ?? []) {
    summary(`${fqn}.${m.name}()`, m.docs);
    for (const p of m.parameters ?? []) summary(`${fqn}.${m.name}(${p.name})`, p.docs);
  }
}
const internal = [...fs.readFileSync(committed, 'utf8').matchAll(/^#+ `?(_\w+)/gm)].map((m) => m[1]);
if (cut.length > 0 || internal.length > 0) {
  for (const c of cut) console.error(`summary cut at ';' (end the first sentence with a period): ${c}`);
  for (const i of internal) console.error(`internal member in API.md: ${i}`);
  process.exit(1);
}
console.log('API.md summaries stand alone and name no internal member');
