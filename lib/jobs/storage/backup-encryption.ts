import { EtcdConfigError } from '../../shared/errors';
import { validateDnsSubdomain, validateSecretKey } from '../../shared/validate';

/** Options for rclone crypt. */
export interface EtcdBackupRcloneCryptOptions {
  /** Secret in the backup's namespace that holds the passphrase. */
  readonly secretName: string;
  /**
   * Key of the passphrase in the Secret. Trailing newlines are ignored, as `$(cat file)` drops them.
   * @default 'passphrase'
   */
  readonly key?: string;
  /**
   * Key of rclone crypt's salt (`password2`) in the same Secret: random bytes of your own, e.g.
   * `head -c 24 /dev/urandom | base64`, at least 16 characters. Without a salt of its own, every rclone crypt user
   * shares rclone's built-in one, so a table of passphrases precomputed once would open everyone's snapshots. Keep it
   * with the passphrase: decrypting needs both. A restore reads snapshots written before salts (0.1) with an empty
   * salt in its Secret.
   * @default 'salt'
   */
  readonly saltKey?: string;
}

/**
 * Client-side encryption of the snapshot before it leaves the job. Every snapshot holds every
 * Kubernetes Secret in plain text, so storing one unencrypted is a choice to make deliberately.
 */
export class EtcdBackupEncryption {
  /**
   * rclone's crypt format (XSalsa20-Poly1305 in authenticated 64 KiB blocks, key derived with scrypt
   * from the passphrase), documented at rclone.org/crypt. Decrypt with `rclone cat` and the same
   * passphrase, without this library (see the README). The stored snapshot is `<name>.db.rclone`.
   */
  public static rcloneCrypt(options: EtcdBackupRcloneCryptOptions): EtcdBackupEncryption {
    if (!options?.secretName) {
      throw new EtcdConfigError(`EtcdBackupEncryption.rcloneCrypt() needs secretName, the Secret that holds the passphrase (got ${JSON.stringify(options?.secretName)}): without a key nothing can be encrypted`);
    }
    validateDnsSubdomain('EtcdBackupEncryption.rcloneCrypt() secretName', options.secretName);
    const key = options.key ?? 'passphrase';
    const saltKey = options.saltKey ?? 'salt';
    validateSecretKey('EtcdBackupEncryption.rcloneCrypt() key', key);
    validateSecretKey('EtcdBackupEncryption.rcloneCrypt() saltKey', saltKey);
    if (saltKey === key) {
      throw new EtcdConfigError(`EtcdBackupEncryption.rcloneCrypt() saltKey must differ from key (both are '${key}'): the salt is a second secret, not the passphrase again`);
    }
    return new EtcdBackupEncryption(options.secretName, key, saltKey);
  }

  /** Store snapshots as etcd wrote them. Warns when a destination is object storage. */
  public static none(): EtcdBackupEncryption {
    return new EtcdBackupEncryption(undefined, undefined, undefined);
  }

  private constructor(
    /** @internal */ public readonly _secretName: string | undefined,
    /** @internal */ public readonly _key: string | undefined,
    /** @internal */ public readonly _saltKey: string | undefined,
  ) {}

  /** Whether snapshots are encrypted. */
  public get enabled(): boolean {
    return this._secretName !== undefined;
  }
}

