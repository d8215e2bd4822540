import { EtcdHarness, ProbeKind } from './harness/etcd-harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What the kubelet sees of each listed member: one row per member and probe. Probed side by side, as
 * the kubelet does: without quorum each readiness probe waits several seconds for etcd to give up.
 */
async function probeRows(h: EtcdHarness, members: number[]) {
  const kinds: ProbeKind[] = ['startupProbe', 'livenessProbe', 'readinessProbe'];
  return Promise.all(members.flatMap((i) => kinds.map(async (kind) => ({ member: h.podName(i), kind, ok: await h.probe(i, kind) }))));
}

/** Startup and liveness pass, readiness fails: alive, but not serving without quorum. */
function aliveNotReady(h: EtcdHarness, members: number[]) {
  return members.flatMap((i) => [
    { member: h.podName(i), kind: 'startupProbe', ok: true },
    { member: h.podName(i), kind: 'livenessProbe', ok: true },
    { member: h.podName(i), kind: 'readinessProbe', ok: false },
  ]);
}

/**
 * Stop a majority and check what the kubelet would see on every member still running: startup and
 * liveness pass (so nothing is restarted in a loop), readiness fails. Then restart a survivor while
 * the majority is still away, as when members start minutes apart: it must pass startup and liveness
 * too. Every member is running and healthy again afterwards.
 */
export async function expectAliveWithoutQuorum(h: EtcdHarness): Promise<void> {
  const all = [...Array(h.size).keys()];
  const quorum = Math.floor(h.size / 2) + 1;
  const survivors = all.slice(0, h.size - quorum);
  // Together, as a zone outage would: one after another, the last ones would wait out their grace period without quorum.
  await Promise.all(all.slice(h.size - quorum).map((i) => h.stop(i)));
  try {
    // Let the survivors notice the lost leader (election timeout 1 s).
    await sleep(3000);
    expect(await probeRows(h, survivors)).toEqual(aliveNotReady(h, survivors));

    // Without quorum a graceful stop only waits out its grace period: stop it as a crash would.
    const late = survivors[0];
    await h.stop(late, 1000);
    h.start(late);
    await h.waitForProbe(late, 'startupProbe', 30000);
    expect(await probeRows(h, [late])).toEqual(aliveNotReady(h, [late]));
  } finally {
    for (const i of all) if (!h.isRunning(i)) h.start(i);
    await h.waitHealthy(all, 60000);
  }
}
