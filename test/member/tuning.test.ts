import { Duration, Size } from 'cdk8s';
import { AutoCompaction, EtcdTuning, EtcdVersion } from '../../lib';
import { quotaForVolume, resolveTuning } from '../../lib/member/tuning';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const resolve = (t: EtcdTuning, volume?: number, version: EtcdVersion = EtcdVersion.V3_6_16) => {
  const warnings: string[] = [];
  return { resolved: resolveTuning(t, version, volume, (w) => warnings.push(w)), warnings };
};

describe('tuning defaults', () => {
  test('match etcd and kubeadm', () => {
    const { resolved, warnings } = resolve({}, 8 * GIB);
    expect(resolved.heartbeatMillis).toBe(100);
    expect(resolved.electionMillis).toBe(1000);
    expect(resolved.snapshotCount).toBe(10000);
    expect(resolved.autoCompaction.mode).toBe('periodic');
    expect(resolved.autoCompaction.retention).toBe('1h');
    expect(resolved.initialCorruptCheck).toBe(true);
    expect(warnings).toEqual([]);
  });

  test('without a volume the quota is left to etcd', () => {
    expect(resolve({}).resolved.quotaBackendBytes).toBeUndefined();
  });
});

describe('quota derived from the volume', () => {
  test.each([
    [1, 256 * MIB], [2, 768 * MIB], [8, 3840 * MIB], [16, 7936 * MIB], [17, 8 * GIB], [100, 8 * GIB],
  ])('%d GiB volume -> %d bytes', (gib, quota) => {
    expect(quotaForVolume(gib * GIB)).toBe(quota);
  });

  test('always leaves room for a full copy during defrag plus the WAL reserve, and never exceeds 8 GiB', () => {
    for (let mib = 640; mib <= 64 * 1024; mib += 37) {
      const volume = mib * MIB;
      const quota = quotaForVolume(volume);
      expect(2 * quota + 512 * MIB).toBeLessThanOrEqual(volume);
      expect(quota).toBeLessThanOrEqual(8 * GIB);
      expect(quota % MIB).toBe(0);
    }
  });

  test('a volume too small for the WAL reserve is refused', () => {
    expect(() => resolve({}, 600 * MIB)).toThrow('storageSize must be at least 640 MiB to hold the WAL reserve (512 MiB) and a useful database (got 600 MiB)');
  });
});

describe('explicit quota', () => {
  test('is used as given', () => {
    expect(resolve({ quotaBackendBytes: Size.gibibytes(2) }, 8 * GIB).resolved.quotaBackendBytes).toBe(2 * GIB);
  });

  test('larger than the volume is refused', () => {
    expect(() => resolve({ quotaBackendBytes: Size.gibibytes(10) }, 8 * GIB))
      .toThrow('tuning.quotaBackendBytes must fit the volume (storageSize 8 GiB) (got 10 GiB): etcd would run out of disk before it raises the NOSPACE alarm');
  });

  test('above 8 GiB is accepted with a warning', () => {
    const { resolved, warnings } = resolve({ quotaBackendBytes: Size.gibibytes(12) }, 64 * GIB);
    expect(resolved.quotaBackendBytes).toBe(12 * GIB);
    expect(warnings).toEqual([expect.stringContaining("above etcd's suggested maximum of 8 GiB")]);
  });

  test('too large to defragment on its volume warns', () => {
    const { warnings } = resolve({ quotaBackendBytes: Size.gibibytes(6) }, 8 * GIB);
    expect(warnings).toEqual([expect.stringContaining('too little room on the 8 GiB volume to defragment')]);
  });
});

describe('timing validation', () => {
  test('accepts election exactly 5 x heartbeat and exactly 50 s', () => {
    expect(resolve({ heartbeatInterval: Duration.millis(200), electionTimeout: Duration.millis(1000) }).resolved.electionMillis).toBe(1000);
    expect(resolve({ heartbeatInterval: Duration.seconds(1), electionTimeout: Duration.seconds(50) }).resolved.electionMillis).toBe(50000);
  });

  test.each([
    [{ heartbeatInterval: Duration.millis(300) }, 'tuning.electionTimeout must be at least 5 × tuning.heartbeatInterval (1500ms) (got 1000ms): etcd refuses to start otherwise'],
    [{ electionTimeout: Duration.millis(50001) }, 'tuning.electionTimeout must be at most 50000ms (got 50001ms): etcd refuses to start otherwise'],
    [{ heartbeatInterval: Duration.millis(0) }, 'tuning.heartbeatInterval must be a whole number of milliseconds, at least 1ms'],
    [{ snapshotCount: 0 }, 'tuning.snapshotCount must be a whole number at least 1 (got 0)'],
    [{ snapshotCount: 1.5 }, 'tuning.snapshotCount must be a whole number at least 1 (got 1.5)'],
    [{ quotaBackendBytes: Size.kibibytes(10) }, 'tuning.quotaBackendBytes must be a whole number of bytes, at least 1 MiB (got 10Ki)'],
  ])('refuses %p', (tuning, message) => {
    expect(() => resolve(tuning as EtcdTuning, 8 * GIB)).toThrow(message);
  });
});

describe('AutoCompaction', () => {
  test.each([
    [Duration.hours(1), '1h'], [Duration.minutes(90), '90m'], [Duration.minutes(5), '5m'], [Duration.seconds(45), '45s'],
  ])('periodic(%p) -> retention %s with an explicit unit', (d, retention) => {
    const c = AutoCompaction.periodic(d);
    expect([c.mode, c.retention]).toEqual(['periodic', retention]);
  });

  test('revision', () => {
    const c = AutoCompaction.revision(1000);
    expect([c.mode, c.retention]).toEqual(['revision', '1000']);
  });

  test('disabled has no mode', () => {
    expect(AutoCompaction.disabled().mode).toBeUndefined();
  });

  test.each([
    [() => AutoCompaction.periodic(Duration.millis(500)), 'autoCompaction retention must be a whole number of seconds, at least 1s (got 500 millis)'],
    [() => AutoCompaction.revision(0), 'autoCompaction revisions must be a whole number at least 1 (got 0)'],
  ])('refuses bad retention %#', (make, message) => {
    expect(make).toThrow(message);
  });
});

describe('tuning.stopGrpcServiceOnDefrag', () => {
  test('is off unless asked for', () => {
    expect(resolve({}).resolved.stopGrpcServiceOnDefrag).toBe(false);
    expect(resolve({ stopGrpcServiceOnDefrag: true }).resolved.stopGrpcServiceOnDefrag).toBe(true);
    expect(resolve({ stopGrpcServiceOnDefrag: true }, undefined, EtcdVersion.V3_7_3).resolved.stopGrpcServiceOnDefrag).toBe(true);
  });

  test.each([EtcdVersion.V3_4_45, EtcdVersion.V3_5_35])('is refused on %s, which has no feature gates', (version) => {
    expect(() => resolve({ stopGrpcServiceOnDefrag: true }, undefined, version))
      .toThrow(`tuning.stopGrpcServiceOnDefrag needs etcd 3.6 or later, where it is the StopGRPCServiceOnDefrag feature gate (got version ${version})`);
    expect(resolve({ stopGrpcServiceOnDefrag: false }, undefined, version).resolved.stopGrpcServiceOnDefrag).toBe(false);
  });
});
