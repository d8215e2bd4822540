import { EtcdHarness } from './etcd-harness';

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
