import { EtcdHarness } from './etcd-harness';

/** What the defragmentation job logged for each member it defragmented, in order. */
export interface Defragmented {
  readonly endpoint: string;
  readonly role: string;
  readonly before: number;
  readonly after: number;
}

/** The per-member lines of a defragmentation job's log (`<endpoint> (<role>): dbSize <before> → <after>`). */
export function defragmentedIn(log: string): Defragmented[] {
  return [...log.matchAll(/defrag: (\S+) \((follower|leader)\): dbSize (\d+) → (\d+)/g)]
    .map((m) => ({ endpoint: m[1], role: m[2], before: Number(m[3]), after: Number(m[4]) }));
}

/**
 * Fragment every member's database: 300 puts of 20 KiB over 100 keys, all deleted, then a physical compaction, and
 * wait until every member has more than 2 MiB of free pages. Returns nothing; throws (through `expect`) on a failed
 * etcdctl call.
 */
export async function fragment(h: EtcdHarness): Promise<void> {
  const value = 'v'.repeat(20 * 1024);
  for (let round = 0; round < 3; round++) {
    for (let k = 0; k < 100; k++) expect(h.etcdctl(['put', `/churn/${k}`, `${round}${value}`]).status).toBe(0);
  }
  expect(h.etcdctl(['del', '/churn/', '--prefix']).status).toBe(0);
  const revision = /"revision":(\d+)/.exec(h.etcdctl(['endpoint', 'status', '-w', 'json'], { endpoints: [h.clientUrl(0)] }).stdout)![1];
  expect(h.etcdctl(['compaction', revision, '--physical']).status).toBe(0);
  // Each member compacts its own database, in its own time: wait until every one has the pages free.
  await waitForFreePages(h, 2 * 1024 * 1024);
}

/**
 * Wait (up to 30 s) until every member's database has more than `bytes` of free pages (dbSize - dbSizeInUse). Pages a
 * compaction releases are pending in bbolt until later write transactions, so it writes a key each time it asks.
 */
export async function waitForFreePages(h: EtcdHarness, bytes: number): Promise<void> {
  const deadline = Date.now() + 30000;
  let last = '';
  while (Date.now() < deadline) {
    h.etcdctl(['put', '/free-pages-tick', String(Date.now())]);
    const r = h.etcdctl(['endpoint', 'status', '-w', 'json'], { endpoints: [...Array(h.size).keys()].map((i) => h.clientUrl(i)) });
    const rows: { Status: { dbSize: number; dbSizeInUse: number } }[] = r.status === 0 ? JSON.parse(r.stdout) : [];
    const free = rows.map((row) => row.Status.dbSize - row.Status.dbSizeInUse);
    if (free.length === h.size && free.every((f) => f > bytes)) return;
    last = r.stdout;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`not every member freed ${bytes} bytes within 30 s: ${last}`);
}
