import { EtcdBackupEncryption } from '../../../lib';
import { cryptPasswords, passphraseFile } from '../../../lib/jobs/storage/rclone';
import { ScriptSandbox } from '../../support/script-sandbox';

/**
 * The crypt password lines, run by `sh` with an `rclone obscure` stand-in that records what reaches it on stdin and
 * on its command line: the passphrase and the salt arrive as rclone's password and password2, never as arguments.
 */
function setPasswords(salt: string, writes: boolean) {
  const box = new ScriptSandbox('crypt');
  box.stub('rclone', `echo "args: $*" >> "${box.root}/calls"\nin=$(cat)\necho "obscured($in)"\n`);
  const r = box.run(`set -eu\nfail() { echo "FAILED: $*" >&2; exit 1; }${cryptPasswords([1, 2], writes)}
env | grep '^RCLONE_CONFIG_' | sort`, { PASSPHRASE_FILE: box.write('passphrase', 'correct horse\n'), SALT_FILE: box.write('salt', salt) });
  const calls = box.read('calls');
  box.dispose();
  return { ...r, calls };
}

test('a backup sets password and password2 of every crypt remote from the files, through stdin only', () => {
  const run = setPasswords('0123456789abcdefXYZ\n', true);
  expect(run.status).toBe(0);
  expect(run.stdout.trim().split('\n')).toEqual([
    'RCLONE_CONFIG_SEALED1_PASSWORD2=obscured(0123456789abcdefXYZ)',
    'RCLONE_CONFIG_SEALED1_PASSWORD=obscured(correct horse)',
    'RCLONE_CONFIG_SEALED2_PASSWORD2=obscured(0123456789abcdefXYZ)',
    'RCLONE_CONFIG_SEALED2_PASSWORD=obscured(correct horse)',
  ]);
  expect(run.calls).toBe('args: obscure -\nargs: obscure -');
});

test('a backup refuses a salt shorter than 16 characters, or none, before anything is encrypted', () => {
  for (const salt of ['short', '']) {
    const run = setPasswords(salt, true);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`FAILED: the encryption salt in`);
    expect(run.stderr).toContain(`has ${salt.length} characters; it needs 16 or more, random`);
  }
});

test('a restore reads with an empty salt as rclone\'s built-in one (snapshots written before salts), and says so', () => {
  const run = setPasswords('', false);
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('the encryption salt is empty or absent: reading with rclone\'s built-in salt');
  expect(run.stdout).not.toContain('PASSWORD2');
  expect(run.stdout).toContain('RCLONE_CONFIG_SEALED1_PASSWORD=obscured(correct horse)');
});

test('the salt comes from the same Secret, under its own key; the same key twice is refused', () => {
  const sealed = EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key', key: 'pass', saltKey: 'pepper' });
  expect(passphraseFile(sealed).volumes[0].secret).toMatchObject({ items: [{ key: 'pass', path: 'passphrase' }, { key: 'pepper', path: 'salt' }], optional: true });
  expect(() => EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key', saltKey: 'passphrase' }))
    .toThrow("EtcdBackupEncryption.rcloneCrypt() saltKey must differ from key (both are 'passphrase')");
  expect(() => EtcdBackupEncryption.rcloneCrypt({ secretName: 'backup-key', saltKey: 'a b' })).toThrow("saltKey must be a Secret key");
});

test('a passphrase or salt with a line break inside is refused: rclone obscure reads one line, and would use the first', () => {
  const run = setPasswords('\n0123456789abcdefXYZ0123', true);
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('the encryption salt holds a line break');
});

test('a Secret without a salt key: a backup refuses to write, a restore reads as 0.1 wrote', () => {
  const box = new ScriptSandbox('crypt');
  box.stub('rclone', 'in=$(cat)\necho "obscured($in)"\n');
  const env = { PASSPHRASE_FILE: box.write('passphrase', 'correct horse\n'), SALT_FILE: `${box.root}/absent` };
  const write = box.run(`set -eu\nfail() { echo "FAILED: $*" >&2; exit 1; }${cryptPasswords([1], true)}`, env);
  const read = box.run(`set -eu\nfail() { echo "FAILED: $*" >&2; exit 1; }${cryptPasswords([1], false)}\nenv | grep '^RCLONE_CONFIG_' | sort`, env);
  box.dispose();
  expect(write.status).toBe(1);
  expect(write.stderr).toContain('the encryption Secret has no salt key');
  expect(read.status).toBe(0);
  expect(read.stdout).toContain('salt is empty or absent');
  expect(read.stdout).not.toContain('PASSWORD2');
});
