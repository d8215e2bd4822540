import { Chart, Testing } from 'cdk8s';
import { EtcdCluster, EtcdStaticPodCluster, EtcdVersion } from '../../lib';
import { renderEtcdFlags } from '../../lib/member/flags';
import { REMOVED_FLAGS, checkUpgrade, upgradeFloor } from '../../lib/release/upgrades';

const v = (s: string) => EtcdVersion.of(s);
const cluster = (version: string, upgradeFrom: string) =>
  new EtcdCluster(new Chart(Testing.app(), 'c', { namespace: 'etcd' }), 'etcd', { version: v(version), upgradeFrom: v(upgradeFrom) });
const nodes = [{ name: 'cp-1', ip: '10.0.0.11' }, { name: 'cp-2', ip: '10.0.0.12' }, { name: 'cp-3', ip: '10.0.0.13' }];

describe('upgradeFrom: etcd\'s upgrade rules at synthesis', () => {
  test.each([
    ['3.5.26', '3.6.16'],
    ['3.5.35', '3.6.16'],
    ['3.6.11', '3.7.3'],
    ['3.6.16', '3.7.3'],
    ['3.4.45', '3.5.35'],
    ['3.6.12', '3.6.16'],
    ['3.6.16', '3.6.12'],
  ])('%s → %s is accepted', (from, to) => {
    expect(() => checkUpgrade('upgradeFrom', v(from), v(to))).not.toThrow();
    expect(() => cluster(to, from)).not.toThrow();
  });

  test('a skipped minor is refused with the path', () => {
    expect(() => cluster('3.7.3', '3.5.35')).toThrow('version 3.7.3 skips a minor from upgradeFrom 3.5.35: etcd upgrades one minor at a time');
    expect(() => cluster('3.7.3', '3.5.35')).toThrow('Upgrade 3.5 → 3.6 → 3.7, one apply and one finished rollout each');
  });

  test('a source below the floor the guide names is refused, naming the floor and the guide', () => {
    expect(() => cluster('3.6.16', '3.5.25')).toThrow('version 3.6.16 needs every 3.5 member on 3.5.26 or later first, and upgradeFrom is 3.5.25 (upgrade_3_6.md');
    expect(() => cluster('3.7.3', '3.6.10')).toThrow('needs every 3.6 member on 3.6.11 or later first, and upgradeFrom is 3.6.10 (upgrade_3_7.md: "the running cluster must be v3.6.11 or later")');
    expect(upgradeFloor(v('3.7.3'))!.toString()).toBe('3.6.11');
  });

  test('a downgrade is refused with the procedure (3.6+), or the restore (from 3.5)', () => {
    expect(() => cluster('3.5.35', '3.6.16')).toThrow('version 3.5.35 is older than upgradeFrom 3.6.16');
    expect(() => cluster('3.5.35', '3.6.16')).toThrow('etcdctl downgrade validate 3.5, then etcdctl downgrade enable 3.5');
    expect(() => cluster('3.5.35', '3.6.16')).toThrow('then set version 3.5.35 without upgradeFrom and apply');
    expect(() => checkUpgrade('upgradeFrom', v('3.5.35'), v('3.4.45'))).toThrow('etcd 3.5.35 has no downgrade procedure: restore a snapshot taken with 3.4');
  });

  test('static pods follow the same rules', () => {
    expect(() => new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes, version: v('3.7.3'), upgradeFrom: v('3.5.35') })).toThrow('skips a minor');
    expect(() => new EtcdStaticPodCluster(Testing.app(), 'etcd', { nodes, version: v('3.6.16'), upgradeFrom: v('3.5.35') })).not.toThrow();
  });
});

describe('no rendered flag is one its release removed', () => {
  test.each(['3.6.16', '3.7.3', '3.6.4'])('%s', (version) => {
    const etcd = new EtcdCluster(new Chart(Testing.app(), 'c', { namespace: 'etcd' }), 'etcd', { version: v(version), tuning: { initialCorruptCheck: true } });
    const minor = v(version).minor;
    const removed = Object.entries(REMOVED_FLAGS).filter(([m]) => Number(m) <= minor).map(([, r]) => r);
    const names = renderEtcdFlags(etcd._model, etcd._model.members[0]).map((f) => f.replace(/^--/, '').split('=')[0]);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      for (const r of removed) {
        expect({ name, removed: r.flags.includes(name) || r.prefixes.some((p) => name.startsWith(p)) }).toEqual({ name, removed: false });
      }
    }
  });

  test('the 3.5 rendering would fail on 3.7 (what the table guards against)', () => {
    const etcd = new EtcdCluster(new Chart(Testing.app(), 'c', { namespace: 'etcd' }), 'etcd', { version: v('3.5.35') });
    const names = renderEtcdFlags(etcd._model, etcd._model.members[0]).map((f) => f.replace(/^--/, '').split('=')[0]);
    expect(names.filter((n) => REMOVED_FLAGS[7].prefixes.some((p) => n.startsWith(p)))).toEqual(['experimental-initial-corrupt-check', 'experimental-watch-progress-notify-interval']);
  });
});
