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
