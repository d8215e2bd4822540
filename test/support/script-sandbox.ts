import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { WORK_DIR } from '../../lib/jobs/job-tools';

/** What a script run in a sandbox left behind. */
export interface ScriptRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout then stderr. */
  readonly output: string;
  readonly ms: number;
}

/**
 * A temporary directory to run one generated script in, with the tools it calls replaced by stand-ins: `bin/`
 * comes first on PATH, and the step's work volume (`WORK_DIR`) is `work/`. Call `dispose()` when done.
 */
export class ScriptSandbox {
  public readonly root: string;
  public readonly bin: string;
  public readonly work: string;

  public constructor(prefix: string) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    this.bin = path.join(this.root, 'bin');
    this.work = path.join(this.root, 'work');
    fs.mkdirSync(this.bin);
    fs.mkdirSync(this.work);
  }

  /** An executable stand-in for `name` on PATH. `shell` is the interpreter line's program. */
  public stub(name: string, body: string, shell = '/bin/sh'): void {
    fs.writeFileSync(path.join(this.bin, name), `#!${shell}\n${body}`, { mode: 0o755 });
  }

  /** Write a file at `relative` under the sandbox (its directories are created); returns its path. */
  public write(relative: string, content: string): string {
    const file = path.join(this.root, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return file;
  }

  /** A file's content under the sandbox, trimmed; '' when it does not exist. */
  public read(relative: string): string {
    const file = path.join(this.root, relative);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
  }

  /**
   * Run `script` with the host's `sh` (a standalone busybox sh would run its own applets ahead of the stand-ins),
   * its `WORK_DIR` moved into the sandbox, and `env` plus the stand-ins first on PATH.
   */
  public run(script: string, env: { [name: string]: string } = {}, timeoutMs = 20000): ScriptRun {
    const started = Date.now();
    const r = spawnSync('sh', ['-c', script.split(WORK_DIR).join(this.work)], {
      encoding: 'utf8',
      timeout: timeoutMs,
      env: { ...env, PATH: `${this.bin}:${process.env.PATH}` },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}${r.stderr}`, ms: Date.now() - started };
  }

  public dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
