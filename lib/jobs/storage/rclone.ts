import { k8s } from 'cdk8s-plus-28';
import { EtcdSecretKey, SecretUse } from '../../shared/required-secrets';
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
 * The passphrase and the salt as files from their Secret, never env vars (which `kubectl describe`, crash dumps and
 * every process of the container can read): the volume, its mount, and `PASSPHRASE_FILE` and `SALT_FILE` naming
 * them. Nothing when snapshots are not encrypted (or, for a restore from a node's directory, not fetched at all).
 */
export function passphraseFile(encryption: EtcdBackupEncryption | undefined): { volumes: k8s.Volume[]; mounts: k8s.VolumeMount[]; env: k8s.EnvVar[] } {
  if (!encryption?.enabled) return { volumes: [], mounts: [], env: [] };
  return {
    volumes: [{
      name: 'backup-key',
      // Optional: a Secret without a salt (one from 0.1) must not keep a pod from starting; every member pod of a
      // restored cluster carries this volume. The scripts say what is missing instead.
      secret: {
        secretName: encryption._secretName!, items: [{ key: encryption._key!, path: 'passphrase' }, { key: encryption._saltKey!, path: 'salt' }],
        defaultMode: 0o440, optional: true,
      },
    }],
    mounts: [{ name: 'backup-key', mountPath: PASSPHRASE_DIR, readOnly: true }],
    env: [{ name: 'PASSPHRASE_FILE', value: `${PASSPHRASE_DIR}/passphrase` }, { name: 'SALT_FILE', value: `${PASSPHRASE_DIR}/salt` }],
  };
}

/** The passphrase Secret's keys and what they hold (none without encryption). */
export function passphraseKeys(encryption: EtcdBackupEncryption | undefined): EtcdSecretKey[] {
  if (!encryption?.enabled) return [];
  return [
    { key: encryption._key!, holds: 'the rclone crypt passphrase' },
    { key: encryption._saltKey!, holds: `rclone crypt's salt (password2): ${MIN_SALT_LENGTH} or more random characters, e.g. head -c 24 /dev/urandom | base64` },
  ];
}

/** The Secrets a step that reads or writes snapshots needs from the user: the passphrase's, and each bucket's credentials. */
export function storageSecrets(
  namespace: string, usedBy: string, encryption: EtcdBackupEncryption | undefined,
  credentials: ({ readonly secretName: string; readonly keys: EtcdSecretKey[] } | undefined)[],
): SecretUse[] {
  const keys = passphraseKeys(encryption);
  return [
    ...(keys.length > 0 ? [{ name: encryption!._secretName!, namespace, type: 'Opaque' as const, keys, usedBy }] : []),
    ...credentials.flatMap((c) => (c ? [{ name: c.secretName, namespace, type: 'Opaque' as const, keys: c.keys, usedBy }] : [])),
  ];
}

/** The shortest salt a backup writes with: 16 characters, 96 bits or more from base64 of random bytes. */
export const MIN_SALT_LENGTH = 16;

/**
 * Shell lines that set each crypt remote's password and salt (`password2`) from the files `$PASSPHRASE_FILE` and
 * `$SALT_FILE` (trailing newlines dropped, as `$(cat file)` drops them), in rclone's obscured form, passed on stdin
 * (never on a command line, which `ps` shows). A backup (`writes`) refuses a salt shorter than
 * `MIN_SALT_LENGTH`; a restore takes an empty salt as rclone's built-in one, to read snapshots written before salts.
 * Needs a `fail` function.
 */
export function cryptPasswords(indexes: number[], writes: boolean): string {
  if (indexes.length === 0) return '';
  const remotes = indexes.map((i) => `RCLONE_CONFIG_${cryptRemoteName(i).toUpperCase()}`);
  const saltCheck = writes
    ? `[ -f "$SALT_FILE" ] || fail "the encryption Secret has no salt key: add one, 16 or more random characters (e.g. head -c 24 /dev/urandom | base64)"
[ \${#salt} -ge ${MIN_SALT_LENGTH} ] || fail "the encryption salt in $SALT_FILE has \${#salt} characters; it needs ${MIN_SALT_LENGTH} or more, random (e.g. head -c 24 /dev/urandom | base64)"`
    : `[ -n "$salt" ] || echo "the encryption salt is empty or absent: reading with rclone's built-in salt, as snapshots written before salts were"`;
  // rclone obscure reads one line: a value with a newline inside would be cut there, unseen (trailing ones are dropped).
  return `
nl='
'
[ -f "$PASSPHRASE_FILE" ] || fail "the encryption Secret has no passphrase key (or the Secret does not exist)"
passphrase=$(cat "$PASSPHRASE_FILE") || fail "cannot read the encryption passphrase from $PASSPHRASE_FILE"
[ -n "$passphrase" ] || fail "the encryption passphrase is empty"
case "$passphrase" in *"$nl"*) fail "the encryption passphrase holds a line break: rclone would use only its first line" ;; esac
salt=$(cat "$SALT_FILE" 2>/dev/null) || salt=
case "$salt" in *"$nl"*) fail "the encryption salt holds a line break: rclone would use only its first line" ;; esac
${saltCheck}
obscured=$(printf '%s' "$passphrase" | rclone obscure -)
${remotes.map((r) => `export ${r}_PASSWORD="$obscured"`).join('\n')}
if [ -n "$salt" ]; then
  obscured=$(printf '%s' "$salt" | rclone obscure -)
${remotes.map((r) => `  export ${r}_PASSWORD2="$obscured"`).join('\n')}
fi`;
}
