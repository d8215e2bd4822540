import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { EtcdVersion } from '../../lib';
import { DEFAULT_BUMP_REVISION } from '../../lib/restore/snapshot-source';
import { EtcdHarness } from './harness/etcd-harness';

/** The keys a restore test writes before the backup: more than etcd puts in one snapshot chunk or txn. */
export const RESTORE_KEYS = 1000;

/** Every `/e2e/backup/` key with its value, as the cluster serves them (linearizable). */
export function readKeys(h: EtcdHarness, endpoints?: string[]): Map<string, string> {
  const r = h.etcdctl(['get', '/e2e/backup/', '--prefix', '-w', 'json'], { endpoints, commandTimeout: '10s' });
  if (r.status !== 0) throw new Error(`get failed: ${r.stderr}`);
  const kvs: { key: string; value: string }[] = JSON.parse(r.stdout).kvs ?? [];
  return new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), Buffer.from(kv.value, 'base64').toString()]));
}

/** The keys `BackupWorld.writeKeys(count)` wrote. */
export function expectedKeys(count = RESTORE_KEYS): Map<string, string> {
  return new Map([...Array(count).keys()].map((i) => [`/e2e/backup/${i}`, `value-${i}`]));
}

/** The cluster ID and revision as a member reports them. */
export function clusterStatus(h: EtcdHarness, index = 0): { clusterId: string; revision: number } {
  const r = h.etcdctl(['endpoint', 'status', '-w', 'json'], { endpoints: [h.clientUrl(index)] });
  if (r.status !== 0) throw new Error(`endpoint status failed: ${r.stderr}`);
  // cluster_id is a uint64: read it as text, not as a (lossy) JSON number.
  const clusterId = /"cluster_id":(\d+)/.exec(r.stdout)![1];
  return { clusterId, revision: JSON.parse(r.stdout)[0].Status.header.revision };
}

/** The revision a restored cluster starts from: the snapshot's, moved forward where the version can. */
export function restoredRevision(version: string, snapshotRevision: number): number {
  return snapshotRevision + (EtcdVersion.of(version).restoreCanBumpRevision ? DEFAULT_BUMP_REVISION : 0);
}

/** Whether a member's data directory holds etcd data (its `member` directory). */
export function hasMemberData(dataDir: string): boolean {
  return fs.existsSync(`${dataDir}/member`);
}

/**
 * Stop a member, empty its data volume (as a lost disk would leave it), start it again and wait for its init
 * containers: the restore guard must then refuse. Returns the data directory.
 */
export async function wipeAndRestart(h: EtcdHarness, index: number, dataVolume: string): Promise<string> {
  await h.stop(index);
  const data = h.volumeDir(index, dataVolume);
  for (const entry of fs.readdirSync(data)) fs.rmSync(path.join(data, entry), { recursive: true });
  h.start(index);
  await h.initDone(index);
  return data;
}

/** Every member's `endpoint hashkv` at one revision: equal hashes mean equal data, key by key, up to it. */
export function hashKvAt(h: EtcdHarness, revision: number): number[] {
  return [...Array(h.size).keys()].map((i) => {
    const r = h.etcdctl(['endpoint', 'hashkv', `--rev=${revision}`, '-w', 'json'], { endpoints: [h.clientUrl(i)] });
    if (r.status !== 0) throw new Error(`endpoint hashkv on ${h.podName(i)} failed: ${r.stderr}`);
    return JSON.parse(r.stdout)[0].HashKV.hash;
  });
}

/** A file the restore steps wrote into the work volume of a member's newest pod start (`candidate`, `decision`). */
export function restoreWorkFile(h: EtcdHarness, index: number, name: string): string | undefined {
  const memberDir = path.join(h.workDir, h.podName(index));
  const runs = fs.readdirSync(memberDir).filter((d) => d.startsWith('init-'))
    .map((d) => path.join(memberDir, d)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  for (const run of runs.slice(0, 1)) {
    const found = spawnSync('find', [run, '-name', name, '-type', 'f'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    if (found) return fs.readFileSync(found, 'utf8').trim();
  }
  return undefined;
}

/** Poll until `check` returns a value, or fail after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
