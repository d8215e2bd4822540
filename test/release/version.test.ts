import { Chart, Testing } from 'cdk8s';
import { EtcdCluster, EtcdVersion } from '../../lib';
import { warningsOf } from '../../lib/shared/warnings';

describe('EtcdVersion.of', () => {
  test.each(['3.5.24', 'v3.5.24', ' 3.5.24 '])('parses %p', (input) => {
    const v = EtcdVersion.of(input);
    expect([v.major, v.minor, v.patch]).toEqual([3, 5, 24]);
    expect(v.toString()).toBe('3.5.24');
  });

  test.each([
    ['', "version must look like MAJOR.MINOR.PATCH, e.g. 3.5.24 (got '')"],
    ['3.5', "version must look like MAJOR.MINOR.PATCH, e.g. 3.5.24 (got '3.5')"],
    ['3.5.24-rc.0', "version must look like MAJOR.MINOR.PATCH, e.g. 3.5.24 (got '3.5.24-rc.0')"],
    ['3.05.1', "version must look like MAJOR.MINOR.PATCH, e.g. 3.5.24 (got '3.05.1')"],
    ['3.5.x', "version must look like MAJOR.MINOR.PATCH, e.g. 3.5.24 (got '3.5.x')"],
    ['latest', "version must look like MAJOR.MINOR.PATCH, e.g. 3.5.24 (got 'latest')"],
    ['3.5.24.1', "version must look like MAJOR.MINOR.PATCH, e.g. 3.5.24 (got '3.5.24.1')"],
    ['2.3.8', "version must be an etcd 3.x release (got 2.3.8): the flags and APIs this library renders are etcd v3's"],
    ['4.0.0', "version must be an etcd 3.x release (got 4.0.0): the flags and APIs this library renders are etcd v3's"],
    ['3.3.27', 'version 3.3.27 is not safe for production: Kubernetes requires etcd 3.4.22+ or 3.5.6+'],
    ['3.4.21', 'version 3.4.21 is not safe for production: Kubernetes requires etcd 3.4.22+ or 3.5.6+'],
    ['3.5.0', 'version 3.5.0 is not safe for production: 3.5.0 to 3.5.5 can corrupt data (inconsistent revisions, online defrag crash); use 3.5.6 or later'],
    ['3.5.5', 'version 3.5.5 is not safe for production: 3.5.0 to 3.5.5 can corrupt data (inconsistent revisions, online defrag crash); use 3.5.6 or later'],
  ])('refuses %p', (input, message) => {
    expect(() => EtcdVersion.of(input)).toThrow(message);
  });

  test('accepts the first safe releases of each line', () => {
    expect(EtcdVersion.of('3.4.22').toString()).toBe('3.4.22');
    expect(EtcdVersion.of('3.5.6').toString()).toBe('3.5.6');
    expect(EtcdVersion.of('3.6.0').toString()).toBe('3.6.0');
  });
});

describe('capabilities', () => {
  test.each([
    ['3.4.28', false], ['3.4.29', true], ['3.5.10', false], ['3.5.11', true], ['3.6.0', true],
  ])('%s serves /livez and /readyz: %p', (v, expected) => {
    expect(EtcdVersion.of(v).servesLivezAndReadyz).toBe(expected);
  });

  test.each([
    ['3.4.26', false], ['3.4.27', true], ['3.5.9', false], ['3.5.10', true], ['3.6.0', true], ['3.7.3', true],
  ])('%s restores with a revision bump: %p', (v, expected) => {
    expect(EtcdVersion.of(v).restoreCanBumpRevision).toBe(expected);
  });

  test.each([['3.4.37', false], ['3.5.6', true], ['3.6.9', true]])('%s honours serializable /health: %p', (v, expected) => {
    expect(EtcdVersion.of(v).servesSerializableHealth).toBe(expected);
  });

  test.each([['3.5.35', false], ['3.6.0', true], ['3.7.3', true]])('%s uses feature gates: %p', (v, expected) => {
    expect(EtcdVersion.of(v).usesFeatureGates).toBe(expected);
  });

  test('isAtLeast compares major, minor and patch in order', () => {
    const v = EtcdVersion.of('3.5.10');
    expect(v.isAtLeast(3, 5, 10)).toBe(true);
    expect(v.isAtLeast(3, 5, 11)).toBe(false);
    expect(v.isAtLeast(3, 4, 99)).toBe(true);
    expect(v.isAtLeast(3, 6, 0)).toBe(false);
    expect(v.isAtLeast(2, 99, 99)).toBe(true);
  });

  test('3.7 is known, 3.8 and later are not', () => {
    expect(EtcdVersion.of('3.7.0').isKnownMinor).toBe(true);
    expect(EtcdVersion.of('3.8.0').isKnownMinor).toBe(false);
  });

  test.each([['3.5.18', false], ['3.5.19', true], ['3.6.0', true], ['3.7.3', true], ['3.4.45', false]])('%s /readyz refuses learners: %p', (v, expected) => {
    expect(EtcdVersion.of(v).readyzRefusesLearners).toBe(expected);
  });
});

describe('constants', () => {
  test('one per known line, the newest patch of each', () => {
    expect([EtcdVersion.V3_4_45, EtcdVersion.V3_5_35, EtcdVersion.V3_6_16, EtcdVersion.V3_7_3].map(String)).toEqual(['3.4.45', '3.5.35', '3.6.16', '3.7.3']);
  });

  test('the default is the newest 3.6 patch', () => {
    expect(EtcdVersion.DEFAULT).toBe(EtcdVersion.V3_6_16);
  });
});

describe('advisories', () => {
  test('the newest patch of 3.5, 3.6 and 3.7 has none', () => {
    expect(EtcdVersion.DEFAULT.advisories).toEqual([]);
    expect(EtcdVersion.V3_5_35.advisories).toEqual([]);
    expect(EtcdVersion.V3_6_16.advisories).toEqual([]);
    expect(EtcdVersion.V3_7_3.advisories).toEqual([]);
  });

  test('3.4 is always end of life', () => {
    expect(EtcdVersion.V3_4_45.advisories).toEqual(['etcd 3.4.45: the 3.4 line is end of life since 3.4.45 (June 2026) and gets no more fixes (fixed in 3.5, 3.6 or 3.7)']);
  });

  const SINCE_3_5_28 = ['PrevKv', 'member cannot be added', 'promote a learner', 'TLS handshake', 'snapshot from the leader', 'hash check'];
  test.each([
    ['3.5.13', ['revision can go backwards', 'applySnapshot and defrag', 'learner or zombie', 'authentication can be bypassed', ...SINCE_3_5_28]],
    ['3.5.14', ['applySnapshot and defrag', 'learner or zombie', 'authentication can be bypassed', ...SINCE_3_5_28]],
    ['3.5.23', ['learner or zombie', 'authentication can be bypassed', ...SINCE_3_5_28]],
    ['3.5.26', ['authentication can be bypassed', ...SINCE_3_5_28]],
    ['3.5.28', SINCE_3_5_28],
    ['3.5.30', ['promote a learner', 'TLS handshake', 'snapshot from the leader', 'hash check']],
    ['3.5.33', ['snapshot from the leader', 'hash check']],
    ['3.5.34', ['snapshot from the leader', 'hash check']],
    ['3.6.3', ['applySnapshot and defrag', 'bootstrap fails', 'authentication can be bypassed', ...SINCE_3_5_28]],
    ['3.6.5', ['authentication can be bypassed', ...SINCE_3_5_28]],
    ['3.6.9', SINCE_3_5_28],
    ['3.6.11', ['promote a learner', 'TLS handshake', 'snapshot from the leader', 'hash check']],
    ['3.6.14', ['snapshot from the leader', 'hash check']],
    ['3.6.15', ['hash check']],
    ['3.7.0', ['TLS handshake', 'snapshot from the leader', 'hash check', 'streamed range']],
    ['3.7.1', ['snapshot from the leader', 'hash check', 'streamed range']],
    ['3.7.2', ['hash check', 'streamed range']],
    ['3.4.37', ['applySnapshot and defrag', 'end of life']],
    ['3.4.38', ['end of life']],
  ])('%s has exactly the listed advisories', (v, expected) => {
    const found = EtcdVersion.of(v).advisories;
    expect(found).toHaveLength(expected.length);
    expected.forEach((text, i) => expect(found[i]).toContain(text));
    found.forEach((text) => expect(text).toMatch(new RegExp(`^etcd ${v.replace(/\./g, '\\.')}: .* \\(fixed in .+\\)$`)));
  });
});

describe('a release this library does not know', () => {
  const warnings = (version: EtcdVersion) => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'etcd' });
    const etcd = new EtcdCluster(chart, 'etcd', { version });
    Testing.synth(chart);
    return warningsOf(etcd);
  };

  test('a patch above the newest known one warns, naming the newest known patch', () => {
    expect(warnings(EtcdVersion.of('3.6.99')).join('\n')).toContain('version 3.6.99 is newer than 3.6.16, the newest 3.6 release this library knows: check that it exists');
    expect(warnings(EtcdVersion.of('3.6.99')).join('\n')).toContain('EtcdVersion.V3_6_16');
  });

  test('the newest known patches, and older ones, do not', () => {
    for (const v of [EtcdVersion.V3_5_35, EtcdVersion.V3_6_16, EtcdVersion.V3_7_3, EtcdVersion.of('3.6.12')]) {
      expect(warnings(v).filter((w) => w.includes('newest 3.'))).toEqual([]);
    }
  });
});
