import { spawnSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { EtcdBackupDestination, EtcdBackupEncryption, EtcdBackupOptions } from '../../lib';
import { DEFAULT_IMAGES } from '../../lib/jobs/images';
import { Manifest } from '../support/synth';
import { SecretFiles } from './harness/certificates';
import { describeEachLine, ipPrefix } from './harness/environment';
import { EtcdLine } from './harness/etcd-lines';
import { EtcdHarness } from './harness/etcd-harness';
import { JobPodContext, JobPodResult, runJobPod } from './harness/job-pod';
import { S3Server } from './harness/s3-server';
import { backupToolsProblem, toolBinary } from './harness/tools';

export const RCLONE_VERSION = DEFAULT_IMAGES.rclone.split(':')[1];
export const BUCKET = 'etcd-backups';
export const PREFIX = 'prod';
export const CLAIM = 'etcd-backup';
/** A trailing newline, as `kubectl create secret --from-file` keeps it: the job must ignore it, as `$(cat file)` does. */
export const PASSPHRASE = 'correct horse battery staple\n';
/** rclone crypt's salt (password2), from the same Secret. */
export const SALT = 'q3Vb9yR2mXkP8sLw4TzN0aE6\n';
const KEYS = 300;
const DAY = 86400;

/** What a scenario builds for one line: the cluster's harness and the backup's CronJob. */
export interface BackupTarget {
  readonly h: EtcdHarness;
  readonly cronJob: Manifest;
  readonly cluster: string;
  /** Host-network jobs: the node the job runs on (its IP and its files). */
  readonly node?: { ip: string; files: { [file: string]: string } };
}

/**
 * The backup scenario on every line: members and an S3 server on `127.<line>.<subnet>.x`, then `backupTests`.
 * Without the tools it skips, or fails with CI=true.
 */
export function describeBackup(title: string, subnet: number, build: (line: EtcdLine, ipPrefix: string, s3Endpoint: string) => BackupTarget): void {
  describeEachLine(title, (line) => {
    if (backupToolsMissing()) return;
    let world: BackupWorld;
    let target: BackupTarget | undefined;
    let s3: S3Server | undefined;

    beforeAll(async () => {
      const prefix = ipPrefix(line, subnet);
      const s3Host = `${prefix}.250`;
      target = build(line, prefix, `http://${s3Host}:7070`);
      s3 = await S3Server.start(`${target.h.workDir}/s3`, s3Host);
      await target.h.startAllAndWait(60000);
      world = new BackupWorld(line, target.h, s3, target.cronJob, target.cluster, target.node);
    }, 90000);

    afterAll(async () => {
      await s3?.stop();
      await target?.h.dispose();
    }, 30000);

    backupTests(() => world);
  });
}

/**
 * Whether rclone and the S3 server are missing: then one test says so (skipped, or failing with CI=true)
 * and the caller declares no others.
 */
export function backupToolsMissing(): boolean {
  const skip = backupToolsProblem(RCLONE_VERSION);
  if (!skip) return false;
  if (process.env.CI === 'true') test('the backup tools are available', () => { throw new Error(skip); });
  else test.skip(`backup tools missing: ${skip}`, () => undefined);
  return true;
}

/** The backup under test: a volume and a bucket, encrypted, keeping the newest 2 and everything from the last 2 days. */
export function backupOptions(s3Endpoint: string): EtcdBackupOptions {
  return {
    destinations: [
      EtcdBackupDestination.volume({ claimName: CLAIM }),
      EtcdBackupDestination.objectStore({ endpoint: s3Endpoint, bucket: BUCKET, prefix: PREFIX, credentialsSecretName: 's3-credentials' }),
    ],
    encryption: EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key' }),
    keepLast: 2,
    keepWithin: Duration.days(2),
  };
}

/** `<namespace>.<cluster>-<UTC stamp>` for a time `secondsAgo` before now. */
function stem(snapshots: string, secondsAgo: number): string {
  return `${snapshots}-${new Date(Date.now() - secondsAgo * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

/**
 * The cluster's lineage, as its first backup would name it: written here before any backup, so the seeded records
 * can carry it (and the runs must read it rather than name another).
 */
function nameLineage(h: EtcdHarness): string {
  const lineage = randomBytes(16).toString('hex');
  const r = h.etcdctl(['put', '/cdk8s-etcd/lineage', lineage]);
  if (r.status !== 0) throw new Error(`writing the lineage failed: ${r.stderr}`);
  return lineage;
}

/** The fields of a snapshot's record the tests read. */
export interface BackupRecord {
  readonly revision: number;
  readonly sha256: string;
  readonly totalKeys: number;
}

/** Everything a backup run needs around it: members, the S3 server, the claim's directory, Secrets. */
export class BackupWorld {
  public readonly claimDir: string;
  public readonly seeded: { kept: string[]; expired: string[]; future: string[]; foreign: string[]; otherCluster: string[]; unfinished: string[]; abandoned: string[] };
  /** What this cluster's snapshots are named from: `<namespace>.<cluster>`, as the CronJob names them. */
  public readonly snapshots: string;

  public constructor(
    public readonly line: EtcdLine,
    public readonly h: EtcdHarness,
    public readonly s3: S3Server,
    public readonly cronJob: Manifest,
    public readonly cluster: string,
    private readonly node?: { ip: string; files: { [file: string]: string } },
    /**
     * Seed the snapshots a restore would rightly refuse to choose among: one stamped in the future, and another
     * cluster's (another lineage) under the same names. Off for the restore scenarios.
     */
    seedRefusable = true,
  ) {
    this.claimDir = path.join(h.workDir, 'claims', CLAIM);
    fs.mkdirSync(this.claimDir, { recursive: true });
    // A provisioned volume as the kubelet mounts it for a pod with an fsGroup.
    const fsGroup = cronJob.spec.jobTemplate.spec.template.spec.securityContext?.fsGroup;
    if (fsGroup !== undefined) fs.chownSync(this.claimDir, 0, fsGroup);
    fs.chmodSync(this.claimDir, 0o2770);
    const made = this.rclone(['mkdir', `store:${BUCKET}`], { RCLONE_CONFIG_STORE_NO_CHECK_BUCKET: 'false' });
    if (made.status !== 0) throw new Error(`creating the bucket failed: ${made.stderr}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const store = cronJob.spec.jobTemplate.spec.template.spec.containers.find((c: any) => c.name === 'store');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    this.snapshots = store.env.find((e: any) => e.name === 'SNAPSHOT_ID').value;
    // Older snapshots already in both destinations: retention must keep the newest 2 and those younger than
    // 2 days, delete the rest, and never touch what is not this cluster's: another cluster's name, a stray file,
    // or another etcd cluster's snapshots under the same name (two Kubernetes clusters sharing a prefix).
    const s = this.snapshots;
    this.seeded = {
      kept: [stem(s, 3600), stem(s, DAY)],
      expired: [stem(s, 3 * DAY), stem(s, 10 * DAY)],
      // Stamped by a run whose clock was 30 days ahead (or, seen from it, this run's clock is behind): kept, and
      // not counted, so it takes no place of the real history in keepLast.
      future: seedRefusable ? [stem(s, -30 * DAY)] : [],
      foreign: [`${s}-other-20200101T000000Z.json`, `other.${cluster}-20200101T000000Z.json`, 'notes.txt'],
      otherCluster: seedRefusable ? [stem(s, 5 * DAY), stem(s, 2 * 3600)] : [],
      // Snapshots without a record: one a run may still be writing (10 min old), one abandoned (3 h, past 2 × the 1 h deadline).
      unfinished: [`${stem(s, 600)}.db.rclone`],
      abandoned: [`${stem(s, 3 * 3600)}.db.rclone`],
    };
    for (const f of [...this.seeded.unfinished, ...this.seeded.abandoned]) this.seed(f, 'half a snapshot');
    const ours = nameLineage(h);
    // Another cluster's records: the same name and the same etcd cluster ID (the same app in another Kubernetes
    // cluster), another lineage.
    const record = (name: string, lineage: string) => JSON.stringify({ cluster, clusterId: '1', lineage, snapshot: `${name}.db.rclone`, sha256: '0'.repeat(64) });
    for (const name of [...this.seeded.kept, ...this.seeded.expired, ...this.seeded.future]) {
      this.seed(`${name}.db.rclone`, 'old snapshot');
      this.seed(`${name}.json`, `${record(name, ours)}\n`);
    }
    for (const name of this.seeded.otherCluster) {
      this.seed(`${name}.db.rclone`, 'another cluster\'s snapshot');
      this.seed(`${name}.json`, `${record(name, 'f'.repeat(32))}\n`);
    }
    for (const f of this.seeded.foreign) this.seed(f, 'not ours');
  }

  /** Write a file into both destinations, as an earlier run would have. */
  private seed(name: string, content: string): void {
    fs.writeFileSync(path.join(this.claimDir, name), content);
    const local = path.join(this.h.workDir, 'seed');
    fs.mkdirSync(local, { recursive: true });
    fs.writeFileSync(path.join(local, name), content);
    const r = this.rclone(['copyto', path.join(local, name), `store:${BUCKET}/${PREFIX}/${name}`]);
    if (r.status !== 0) throw new Error(`seeding ${name} failed: ${r.stderr}`);
  }

  /** Host rclone with an S3 remote `store:` defined by env, as the README does. */
  public rclone(args: string[], env: { [k: string]: string } = {}): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(toolBinary('rclone', RCLONE_VERSION).binary!, args, {
      env: { PATH: process.env.PATH, ...this.storeEnv(), ...env },
      encoding: 'utf8',
      timeout: 60000,
    });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  public storeEnv(): { [k: string]: string } {
    return {
      RCLONE_CONFIG: '/dev/null',
      RCLONE_CONFIG_STORE_TYPE: 's3',
      RCLONE_CONFIG_STORE_PROVIDER: 'Other',
      RCLONE_CONFIG_STORE_ENDPOINT: this.s3.endpoint,
      RCLONE_CONFIG_STORE_REGION: 'us-east-1',
      RCLONE_CONFIG_STORE_FORCE_PATH_STYLE: 'true',
      RCLONE_CONFIG_STORE_ACCESS_KEY_ID: this.s3.credentials.accessKeyId,
      RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY: this.s3.credentials.secretAccessKey,
      // Seeding writes into the existing bucket; the server refuses to create it twice.
      RCLONE_CONFIG_STORE_NO_CHECK_BUCKET: 'true',
    };
  }

  /** Write `count` keys `/e2e/backup/<n>` in transactions of 100 puts. */
  public writeKeys(count = KEYS): void {
    for (let start = 0; start < count; start += 100) {
      const puts = [...Array(Math.min(100, count - start)).keys()].map((i) => `put /e2e/backup/${start + i} value-${start + i}`);
      const r = this.h.etcdctl(['txn'], { input: `\n${puts.join('\n')}\n\n\n` });
      if (r.status !== 0 || !r.stdout.startsWith('SUCCESS')) throw new Error(`txn failed: ${r.stderr}${r.stdout}`);
    }
  }

  /** Write `keys` keys and run the backup; the snapshot it stored and its record (a failed run throws). */
  public backUp(keys: number): { stem: string; record: BackupRecord } {
    this.writeKeys(keys);
    const run = this.run();
    if (!run.succeeded) throw new Error(`the backup failed:\n${run.log}`);
    const stem = /backup: verified (\S+)\.db/.exec(run.log)![1];
    return { stem, record: JSON.parse(fs.readFileSync(path.join(this.claimDir, `${stem}.json`), 'utf8')) };
  }

  public run(afterContainer?: JobPodContext['afterContainer'], cronJob: Manifest = this.cronJob): JobPodResult {
    const runDir = fs.mkdtempSync(path.join(this.h.workDir, 'job-'));
    fs.chmodSync(runDir, 0o755);
    const secrets = new Map<string, SecretFiles>([
      ...this.h.secretFiles(),
      ['backup-key', { passphrase: PASSPHRASE, salt: SALT }],
      ['s3-credentials', { AWS_ACCESS_KEY_ID: this.s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: this.s3.credentials.secretAccessKey }],
    ]);
    return runJobPod(cronJob, {
      runDir,
      hostsFile: this.h.hostsFile,
      secrets,
      claims: new Map([[CLAIM, this.claimDir]]),
      nodeFiles: this.node?.files,
      nodeIp: this.node?.ip,
      afterContainer,
    });
  }

  /** The volume's and the bucket's files. */
  public listing(): { volume: string[]; bucket: string[] } {
    return { volume: fs.readdirSync(this.claimDir).sort(), bucket: this.s3.list(BUCKET, PREFIX) };
  }
}

/** The README's decryption block, run as written, with its variables set. */
export function runReadmeDecryption(world: BackupWorld, snapshot: string, passphrase: string, salt = SALT): { status: number | null; output: string; file: string } {
  const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const block = /<!-- decrypt:start -->\s*```sh\n([\s\S]*?)```\s*<!-- decrypt:end -->/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no decrypt block');
  const dir = fs.mkdtempSync(path.join(world.h.workDir, 'decrypt-'));
  fs.writeFileSync(path.join(dir, 'passphrase.txt'), passphrase);
  fs.writeFileSync(path.join(dir, 'salt.txt'), salt);
  const rclone = toolBinary('rclone', RCLONE_VERSION).binary!;
  const r = spawnSync('sh', ['-ec', block], {
    cwd: dir,
    env: {
      PATH: `${path.dirname(rclone)}:${process.env.PATH}`,
      S3_ENDPOINT: world.s3.endpoint,
      AWS_ACCESS_KEY_ID: world.s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: world.s3.credentials.secretAccessKey,
      BUCKET,
      PREFIX,
      PASSPHRASE_FILE: path.join(dir, 'passphrase.txt'),
      SALT_FILE: path.join(dir, 'salt.txt'),
      SNAPSHOT: snapshot,
    },
    encoding: 'utf8',
    timeout: 60000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}`, file: path.join(dir, `${snapshot}.db`) };
}

export function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** `snapshot status` of a file with the line's own tool (etcdutl, or etcdctl on 3.4). */
export function snapshotStatus(h: EtcdHarness, file: string): { revision: number; totalKey: number } | undefined {
  const b = h.member(0).binaries;
  const r = spawnSync(b.etcdutl ?? b.etcdctl, ['snapshot', 'status', file, '--write-out=json'], { encoding: 'utf8' });
  return r.status === 0 ? JSON.parse(r.stdout) : undefined;
}

/** The tests both cluster kinds share, once `world()` is set up by the caller's beforeAll. */
function backupTests(world: () => BackupWorld): void {
  let first: JobPodResult;
  let record: { [k: string]: unknown };
  let name: string;

  test('a run stores one verified, encrypted snapshot and its record in the volume and the bucket', () => {
    const w = world();
    w.writeKeys();
    first = w.run();
    expect(first.log).toContain('backup: done');
    expect(first.succeeded).toBe(true);
    const created = w.listing().volume.filter((f) => /^.*-\d{8}T\d{6}Z\.json$/.test(f) && !Object.values(w.seeded).flat().some((s) => f.startsWith(s)));
    expect(created).toHaveLength(1);
    name = created[0].replace(/\.json$/, '');
    expect(name.startsWith(`${w.snapshots}-`)).toBe(true);
    record = JSON.parse(fs.readFileSync(path.join(w.claimDir, `${name}.json`), 'utf8'));
    expect(record).toMatchObject({
      cluster: w.cluster,
      snapshot: `${name}.db.rclone`,
      etcdVersion: w.line.version,
      encryption: 'rclone-crypt',
      trialRestore: true,
    });
    expect(record.totalKeys as number).toBeGreaterThanOrEqual(KEYS);
    // Nothing was written since: the snapshot holds the cluster's current revision.
    const current = JSON.parse(w.h.etcdctl(['get', '/e2e/backup/0', '--write-out=json']).stdout).header.revision;
    expect(record.revision).toBe(current);
    expect(record.sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const listing of [w.listing().volume, w.listing().bucket]) {
      expect(listing).toEqual(expect.arrayContaining([`${name}.db.rclone`, `${name}.json`]));
      expect(listing).not.toContain(`${name}.db`);
    }
    // Encrypted at rest: rclone's crypt header, and not a bbolt database.
    for (const stored of [fs.readFileSync(path.join(w.claimDir, `${name}.db.rclone`)), w.s3.read(BUCKET, `${PREFIX}/${name}.db.rclone`)]) {
      expect(stored.subarray(0, 8).toString('latin1')).toBe('RCLONE\u0000\u0000');
    }
  }, 180000);

  test('retention deleted exactly the expired snapshots and the abandoned half one; nothing stamped in the future, or not this cluster\'s', () => {
    const w = world();
    const expected = [
      `${name}.db.rclone`, `${name}.json`,
      ...[...w.seeded.kept, ...w.seeded.future, ...w.seeded.otherCluster].flatMap((s) => [`${s}.db.rclone`, `${s}.json`]),
      ...w.seeded.foreign,
      ...w.seeded.unfinished,
    ].sort();
    expect(w.listing()).toEqual({ volume: expected, bucket: expected });
    for (const s of w.seeded.expired) expect(first.log).toContain(`retention removed ${s}`);
    for (const s of w.seeded.future) expect(first.log).toMatch(new RegExp(`retention keeps ${s} and does not count it: it is stamped \\d+ s after this run's clock`));
    // Another etcd cluster's, older than keepWithin and beyond keepLast: neither counted nor deleted.
    for (const s of w.seeded.otherCluster) expect(first.log).toContain(`retention keeps ${s} and does not count it: its record names lineage ${'f'.repeat(32)}, not this cluster's (${record.lineage})`);
    for (const f of w.seeded.abandoned) expect(first.log).toContain(`removed ${f} from dest2:${BUCKET}/${PREFIX}/: a run that did not finish left it without a record`);
  });

  test('the README\'s command decrypts the snapshot to the recorded sha256, and etcd accepts it with the keys written', () => {
    const w = world();
    const out = runReadmeDecryption(w, name, PASSPHRASE.trim());
    expect(out.output).toContain(`"sha256":"${record.sha256}"`);
    expect(out.status).toBe(0);
    expect(sha256(out.file)).toBe(record.sha256);
    const status = snapshotStatus(w.h, out.file);
    expect(status).toMatchObject({ revision: record.revision, totalKey: record.totalKeys });
  }, 60000);

  test('a cluster without a lineage gets one from its first backup (a real etcdctl txn), and later runs keep it', () => {
    const w = world();
    const before = w.h.etcdctl(['get', '/cdk8s-etcd/lineage', '--print-value-only']).stdout.trim();
    expect(w.h.etcdctl(['del', '/cdk8s-etcd/lineage']).status).toBe(0);
    const lineageOf = (run: JobPodResult) => {
      expect(run.log).toContain('backup: done');
      const stem = /backup: verified (\S+)\.db/.exec(run.log)![1];
      return JSON.parse(fs.readFileSync(path.join(w.claimDir, `${stem}.json`), 'utf8')).lineage;
    };
    const named = lineageOf(w.run());
    expect(named).toMatch(/^[0-9a-f]{32}$/);
    expect(named).not.toBe(before);
    expect(w.h.etcdctl(['get', '/cdk8s-etcd/lineage', '--print-value-only']).stdout.trim()).toBe(named);
    expect(lineageOf(w.run())).toBe(named);
    // Put the seeded lineage back for the tests after this one.
    expect(w.h.etcdctl(['put', '/cdk8s-etcd/lineage', before]).status).toBe(0);
  }, 120000);

  test('the S3 server checks SigV4 signatures: a wrong secret key is refused', () => {
    const r = world().rclone(['lsf', `store:${BUCKET}/${PREFIX}`], { RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY: 'wrong' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('SignatureDoesNotMatch');
  }, 60000);

  test('the wrong passphrase, or the right one without the salt, decrypts nothing', () => {
    for (const [passphrase, salt] of [['not the passphrase', SALT], [PASSPHRASE.trim(), '']]) {
      const out = runReadmeDecryption(world(), name, passphrase, salt);
      expect(out.status).not.toBe(0);
      expect(out.output).toMatch(/failed to authenticate decrypted block|bad password/i);
    }
  }, 60000);

  test('a snapshot corrupted before verification fails the Job, and nothing is stored', () => {
    const w = world();
    const before = w.listing();
    const result = w.run((container, volumes) => {
      if (container !== 'snapshot') return;
      const file = path.join(volumes.get('work')!, 'snapshot.db');
      const bytes = fs.readFileSync(file);
      for (let i = 0; i < 16; i++) bytes[Math.floor(bytes.length / 2) + i] ^= 0xff;
      fs.writeFileSync(file, bytes);
    });
    expect(result.succeeded).toBe(false);
    expect(result.runs.map((r) => r.name)).toEqual(['tools', 'snapshot', 'verify']);
    expect(result.runs[2].output).toContain('it is corrupt');
    expect(w.listing()).toEqual(before);
  }, 120000);

  test('a multipart upload is verified by reading it back; rclone cryptcheck passes such an object corrupted, and the read-back does not', () => {
    const w = world();
    // Every S3 upload multipart (rclone's cutoff is 200 MiB; 0 makes this small snapshot take that path).
    const cronJob = JSON.parse(JSON.stringify(w.cronJob));
    cronJob.spec.jobTemplate.spec.template.spec.containers.find((c: { name: string }) => c.name === 'store').env.push({ name: 'RCLONE_S3_UPLOAD_CUTOFF', value: '0' });
    const result = w.run(undefined, cronJob);
    expect(result.log).toContain('backup: done');
    const stem = /backup: verified (\S+)\.db/.exec(result.log)![1];
    const recorded = JSON.parse(fs.readFileSync(path.join(w.claimDir, `${stem}.json`), 'utf8')).sha256;
    expect(result.log).toContain(`backup: stored ${stem} in dest2:${BUCKET}/${PREFIX}/ (read back: sha256 ${recorded})`);
    const object = fs.readdirSync(w.s3.dir, { recursive: true }).map(String).find((f) => f.endsWith(`${stem}.db.rclone`))!;
    const decrypted = runReadmeDecryption(w, stem, PASSPHRASE.trim());
    expect(sha256(decrypted.file)).toBe(recorded);
    // Corrupt the stored object, as a bad disk or a broken upload would.
    const file = path.join(w.s3.dir, object);
    const bytes = fs.readFileSync(file);
    for (let i = 0; i < 16; i++) bytes[Math.floor(bytes.length / 2) + i] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const sealedEnv = {
      RCLONE_CONFIG_SEALED_TYPE: 'crypt', RCLONE_CONFIG_SEALED_REMOTE: `store:${BUCKET}/${PREFIX}`, RCLONE_CONFIG_SEALED_FILENAME_ENCRYPTION: 'off',
      RCLONE_CONFIG_SEALED_DIRECTORY_NAME_ENCRYPTION: 'false', RCLONE_CONFIG_SEALED_SUFFIX: '.rclone',
      RCLONE_CONFIG_SEALED_PASSWORD: w.rclone(['obscure', PASSPHRASE.trim()]).stdout.trim(),
      RCLONE_CONFIG_SEALED_PASSWORD2: w.rclone(['obscure', SALT.trim()]).stdout.trim(),
    };
    // The check the job used before passes the corrupted object: for a multipart upload rclone compares the MD5 it
    // stored in the object's metadata at upload, not the bytes the server now holds.
    const check = w.rclone(['cryptcheck', '--one-way', '--include', `/${stem}.db`, path.dirname(decrypted.file), 'sealed:'], sealedEnv);
    expect(check.stderr).toMatch(/0 differences found|hash(es)? could not be checked/i);
    expect(check.status).toBe(0);
    // The job's read-back (rclone cat through the crypt remote) does not.
    const readBack = spawnSync('sh', ['-c', `"$RCLONE" cat "sealed:${stem}.db" | sha256sum | cut -d' ' -f1`], {
      env: { ...process.env, ...w.storeEnv(), ...sealedEnv, RCLONE: toolBinary('rclone', RCLONE_VERSION).binary! }, encoding: 'utf8',
    });
    expect(readBack.stdout.trim()).not.toBe(recorded);
    expect(readBack.stderr).toMatch(/failed to authenticate decrypted block/i);
  }, 120000);

  test('a member cut off from its peers is not snapshotted (etcd would serve it): the run fails, nothing is stored', async () => {
    const w = world();
    const before = w.listing();
    // The job reaches the first member (the Service, or the node's 127.0.0.1); its peers go away.
    await Promise.all([w.h.stop(1), w.h.stop(2)]);
    try {
      const result = w.run();
      expect(result.succeeded).toBe(false);
      expect(result.runs.map((r) => r.name)).toEqual(['tools', 'snapshot']);
      // 3.5 cannot even list the members without the leader; the other lines fail the linearizable read.
      expect(result.runs[1].output).toMatch(/did not answer a linearizable read within 15 s: it has no quorum|could not list the members through \S+: without a quorum/);
      expect(w.listing()).toEqual(before);
    } finally {
      w.h.start(1);
      w.h.start(2);
      await w.h.waitHealthy([0, 1, 2], 60000);
    }
  }, 150000);
}
