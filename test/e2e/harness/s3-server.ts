import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { pinnedToolVersion, toolBinary } from './tools';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An S3-compatible server on a loopback address: Versity's versitygw over a POSIX directory, an
 * implementation independent of rclone (the job's uploader). It checks SigV4 signatures on every request.
 */
export class S3Server {
  public static async start(dir: string, host: string, port = 7070): Promise<S3Server> {
    const { binary, missing } = toolBinary('versitygw', pinnedToolVersion('versitygw'));
    if (!binary) throw new Error(`harness: ${missing}`);
    fs.mkdirSync(dir, { recursive: true });
    const credentials = { accessKeyId: 'e2e-backup', secretAccessKey: 'e2e-backup-secret-key-0123456789' };
    const log = fs.openSync(path.join(dir, '..', 'versitygw.log'), 'a');
    const child = spawn(binary, ['--port', `${host}:${port}`, 'posix', dir], {
      env: { PATH: process.env.PATH, ROOT_ACCESS_KEY_ID: credentials.accessKeyId, ROOT_SECRET_ACCESS_KEY: credentials.secretAccessKey },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    process.on('exit', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
    const server = new S3Server(child, dir, `http://${host}:${port}`, credentials);
    const deadline = Date.now() + 15000;
    while (!(await canConnect(host, port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`harness: versitygw did not start on ${host}:${port}`);
      await sleep(200);
    }
    return server;
  }

  private constructor(
    private readonly child: ChildProcess,
    /** The POSIX directory: each bucket is a directory, each object a file. */
    public readonly dir: string,
    public readonly endpoint: string,
    public readonly credentials: { accessKeyId: string; secretAccessKey: string },
  ) {}


  /** Object names under a bucket prefix, as files of the backend. */
  public list(bucket: string, prefix: string): string[] {
    const dir = path.join(this.dir, bucket, prefix);
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort() : [];
  }

  public read(bucket: string, key: string): Buffer {
    return fs.readFileSync(path.join(this.dir, bucket, key));
  }

  public async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    await done;
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}
