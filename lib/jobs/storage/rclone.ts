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

/** The passphrase from its Secret, as `BACKUP_PASSPHRASE`; nothing when snapshots are not encrypted. */
export function passphraseEnv(encryption: EtcdBackupEncryption): k8s.EnvVar[] {
  if (!encryption.enabled) return [];
  return [{ name: 'BACKUP_PASSPHRASE', valueFrom: { secretKeyRef: { name: encryption._secretName!, key: encryption._key! } } }];
}

/**
 * Shell lines that set each crypt remote's password from `BACKUP_PASSPHRASE` (trailing newlines dropped,
 * as `$(cat file)` drops them), in rclone's obscured form. Needs a `fail` function.
 */
export function cryptPasswords(indexes: number[]): string {
  if (indexes.length === 0) return '';
  return `
passphrase=$(printf '%s' "$BACKUP_PASSPHRASE")
[ -n "$passphrase" ] || fail "the encryption passphrase is empty"
obscured=$(printf '%s' "$passphrase" | rclone obscure -)
${indexes.map((i) => `export RCLONE_CONFIG_${cryptRemoteName(i).toUpperCase()}_PASSWORD="$obscured"`).join('\n')}`;
}
