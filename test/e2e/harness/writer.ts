import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { EtcdHarness } from './etcd-harness';

/** A background writer: `ok()` counts the writes that succeeded so far; `stop()` ends it and tells every result. */
export interface Writer {
  ok(): number;
  /** How many succeeded, the failures (number, UTC time, error), and the slowest write in ms. */
  stop(): Promise<{ ok: number; failed: string[]; slowestMs: number }>;
}

/** Stop every writer still running (a test that failed midway leaves its writer running). */
export function stopAllWriters(): void {
  for (const pid of WRITERS) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
}

/** Writers still running, by process group. */
const WRITERS = new Set<number>();

/**
 * A write to the cluster every second, by a process of its own (so a slow write never holds up the node agent):
 * `stop()` returns how many succeeded, the times and errors of those that failed, and the slowest. A write may take
 * 10 s (a Kubernetes API server waits far longer): on a loaded 2-core machine, a write sent while the leader's member
 * was being replaced took more than 5 s in 2 of 4 upgrade runs; the slowest write is reported so the stall is seen.
 */
export function startWriter(harness: EtcdHarness, name: string, members: number[] = [0, 1, 2], intervalSeconds = 1): Writer {
  const log = path.join(harness.workDir, `writer-${name}.log`);
  const identity = harness.clientIdentity;
  const endpoints = members.map((i) => harness.clientUrl(i)).join(',');
  const script = `mount --bind "$HOSTS" /etc/hosts || exit 1
i=0
while :; do
  i=$((i + 1))
  started=$(date +%s%N)
  if out=$("$ETCDCTL" --endpoints="$ENDPOINTS" --cacert="$CACERT" --cert="$CERT" --key="$KEY" --dial-timeout=2s --command-timeout=10s put /driven/${name} "$i" 2>&1); then
    echo "ok $i $(( ($(date +%s%N) - started) / 1000000 ))"
  else
    echo "failed $i $(date -u +%H:%M:%S) $(echo "$out" | tail -n 1)"
  fi
  sleep ${intervalSeconds}
done`;
  const out = fs.openSync(log, 'a');
  const child: ChildProcess = spawn('unshare', ['-m', 'sh', '-c', script], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { PATH: process.env.PATH, HOSTS: harness.hostsFile, ETCDCTL: harness.member(0).binaries.etcdctl, ENDPOINTS: endpoints, CACERT: identity.cacert!, CERT: identity.cert!, KEY: identity.key! },
  });
  fs.closeSync(out);
  WRITERS.add(child.pid!);
  return {
    ok: () => fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('ok ')).length,
    stop: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
      WRITERS.delete(child.pid!);
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
      const oks = lines.filter((l) => l.startsWith('ok '));
      return { ok: oks.length, failed: lines.filter((l) => l.startsWith('failed ')), slowestMs: Math.max(0, ...oks.map((l) => Number(l.split(' ')[2]) || 0)) };
    },
  };
}
