import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { acceptedByHelp, fixturePath } from '../support/etcd-help';
import { describeEachLine } from './harness/environment';

// The unit tests check every rendered flag against test/fixtures/etcd-help/<version>.txt; this keeps
// each fixture equal to what the real binary accepts. UPDATE_ETCD_HELP=1 rewrites them.
describeEachLine('the etcd --help fixture', (line) => {
  test(`lists exactly the flags and feature gates etcd ${line.version} accepts`, () => {
    const help = spawnSync(path.join(line.binDir!, 'etcd'), ['--help'], { encoding: 'utf8' });
    const accepted = acceptedByHelp(`${help.stdout}\n${help.stderr}`);
    expect(accepted.length).toBeGreaterThan(50);
    if (process.env.UPDATE_ETCD_HELP === '1') fs.writeFileSync(fixturePath(line.version), `${accepted.join('\n')}\n`);
    expect(fs.existsSync(fixturePath(line.version))).toBe(true);
    expect(fs.readFileSync(fixturePath(line.version), 'utf8').split('\n').filter(Boolean)).toEqual(accepted);
  });
});
