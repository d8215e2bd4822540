import * as fs from 'fs';
import * as path from 'path';

/**
 * What an etcd binary accepts, as `etcd --help` prints it: one `--flag` line per flag and one
 * `gate Name` line per feature gate (3.6+), sorted. Stored per release in test/fixtures/etcd-help/,
 * checked against the real binaries by test/e2e/etcd-help-fixtures.test.ts.
 */
export const HELP_FIXTURES = path.join(__dirname, '../fixtures/etcd-help');

export function acceptedByHelp(helpText: string): string[] {
  const accepted = new Set<string>();
  for (const line of helpText.split('\n')) {
    const flag = /^\s+(--[a-z0-9-]+)/.exec(line);
    if (flag) accepted.add(flag[1]);
    const gate = /^\s+([A-Z][A-Za-z0-9]+)=true\|false/.exec(line);
    if (gate && !gate[1].startsWith('All')) accepted.add(`gate ${gate[1]}`);
  }
  return [...accepted].sort();
}

export function fixturePath(version: string): string {
  return path.join(HELP_FIXTURES, `${version}.txt`);
}

/** Releases that have a fixture. */
export function fixtureVersions(): string[] {
  return fs.readdirSync(HELP_FIXTURES).filter((f) => f.endsWith('.txt')).map((f) => f.slice(0, -'.txt'.length)).sort();
}

export function readFixture(version: string): Set<string> {
  return new Set(fs.readFileSync(fixturePath(version), 'utf8').split('\n').filter(Boolean));
}
