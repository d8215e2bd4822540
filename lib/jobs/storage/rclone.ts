import { k8s } from 'cdk8s-plus-28';
import { EtcdBackupEncryption } from './backup-encryption';

/**
 * rclone as the backup and the restore use it: no rclone.conf, every remote defined by environment
 * variables, and an rclone crypt remote over each place snapshots are kept.
 */

/** No rclone.conf (every remote comes from the environment), and a writable home for rclone's cache. */
export function rcloneBaseEnv(home: string): k8s.EnvVar[] {
  return [
    { name: 'RCLONE_CONFIG', value: '/dev/null' },
    { name: 'HOME', value: home },
  ];
}

/** The crypt remote over the `index`th place: `sealed<index>`. */
export function cryptRemoteName(index: number): string {
  return `sealed${index}`;
}

/** An rclone crypt remote over `remote`: file names stay readable (`<name>.db.rclone`), contents are encrypted. */
export function cryptEnv(index: number, remote: string): k8s.EnvVar[] {
  const prefix = `RCLONE_CONFIG_${cryptRemoteName(index).toUpperCase()}_`;
  return [
    { name: `${prefix}TYPE`, value: 'crypt' },
    { name: `${prefix}REMOTE`, value: remote },
    { name: `${prefix}FILENAME_ENCRYPTION`, value: 'off' },
    { name: `${prefix}DIRECTORY_NAME_ENCRYPTION`, value: 'false' },
    { name: `${prefix}SUFFIX`, value: '.rclone' },
  ];
}

/** Where the passphrase's Secret is mounted, in the steps that encrypt or decrypt. */
export const PASSPHRASE_DIR = '/etc/etcd-backup-key';

/**
 * The passphrase as a file from its Secret, never an env var (which `kubectl describe`, crash dumps and every
 * process of the container can read): its volume, its mount, and `PASSPHRASE_FILE` naming it. Nothing when
 * snapshots are not encrypted (or, for a restore from a node's directory, not fetched at all).
 */
export function passphraseFile(encryption: EtcdBackupEncryption | undefined): { volumes: k8s.Volume[]; mounts: k8s.VolumeMount[]; env: k8s.EnvVar[] } {
  if (!encryption?.enabled) return { volumes: [], mounts: [], env: [] };
  return {
    volumes: [{ name: 'backup-key', secret: { secretName: encryption._secretName!, items: [{ key: encryption._key!, path: 'passphrase' }], defaultMode: 0o440 } }],
    mounts: [{ name: 'backup-key', mountPath: PASSPHRASE_DIR, readOnly: true }],
    env: [{ name: 'PASSPHRASE_FILE', value: `${PASSPHRASE_DIR}/passphrase` }],
  };
}

/**
 * Shell lines that set each crypt remote's password from the file `$PASSPHRASE_FILE` (trailing newlines dropped,
 * as `$(cat file)` drops them), in rclone's obscured form, passed on stdin (never on a command line, which
 * `ps` shows). Needs a `fail` function.
 */
export function cryptPasswords(indexes: number[]): string {
  if (indexes.length === 0) return '';
  return `
passphrase=$(cat "$PASSPHRASE_FILE") || fail "cannot read the encryption passphrase from $PASSPHRASE_FILE"
[ -n "$passphrase" ] || fail "the encryption passphrase is empty"
obscured=$(printf '%s' "$passphrase" | rclone obscure -)
${indexes.map((i) => `export RCLONE_CONFIG_${cryptRemoteName(i).toUpperCase()}_PASSWORD="$obscured"`).join('\n')}`;
}
