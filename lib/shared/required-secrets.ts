import { IConstruct } from 'constructs';

/** One key of a Secret the user creates, and what it holds. */
export interface EtcdSecretKey {
  /** The key in the Secret's `data`. */
  readonly key: string;
  /** What it holds, e.g. "the rclone crypt passphrase". */
  readonly holds: string;
}

/**
 * A Secret the user must create before `kubectl apply`: the generated objects reference it, and the pods that
 * mount it do not start without it. Secrets the library or cert-manager creates are not listed.
 */
export interface EtcdRequiredSecret {
  /** The Secret's name. */
  readonly name: string;
  /** The namespace the Secret must be in (the pods that read it are there). */
  readonly namespace: string;
  /** `kubernetes.io/tls` for certificates, otherwise `Opaque`. */
  readonly type: string;
  /** Every key the pods read, and what each holds. */
  readonly keys: EtcdSecretKey[];
  /** What reads it, e.g. "CronJob etcd-hourly (store)". */
  readonly usedBy: string[];
  /** A `kubectl create secret` command that creates it from files named after its keys, in the current directory. */
  readonly createCommand: string;
}

/** What a construct records about a Secret it references and does not create. */
export interface SecretUse {
  readonly name: string;
  readonly namespace: string;
  readonly type: 'kubernetes.io/tls' | 'Opaque';
  readonly keys: EtcdSecretKey[];
  readonly usedBy: string;
}

const REQUIRED = new WeakMap<IConstruct, SecretUse[]>();

/** Note that `owner` (a cluster, a backup) references a Secret the user creates. */
export function requireSecret(owner: IConstruct, use: SecretUse): void {
  REQUIRED.set(owner, [...(REQUIRED.get(owner) ?? []), use]);
}

/** The Secrets `owners` reference, one entry per Secret: keys and users merged, sorted by namespace and name. */
export function requiredSecretsOf(owners: IConstruct[]): EtcdRequiredSecret[] {
  const merged = new Map<string, { use: SecretUse; keys: Map<string, string>; usedBy: string[] }>();
  for (const use of owners.flatMap((o) => REQUIRED.get(o) ?? [])) {
    const id = `${use.namespace}/${use.name}`;
    const entry = merged.get(id) ?? { use, keys: new Map<string, string>(), usedBy: [] };
    for (const k of use.keys) if (!entry.keys.has(k.key)) entry.keys.set(k.key, k.holds);
    if (!entry.usedBy.includes(use.usedBy)) entry.usedBy.push(use.usedBy);
    merged.set(id, entry);
  }
  return [...merged.keys()].sort().map((id) => {
    const { use, keys, usedBy } = merged.get(id)!;
    const files = [...keys.keys()].map((k) => `--from-file=${k}=./${k}`).join(' ');
    const type = use.type === 'Opaque' ? '' : ` --type=${use.type}`;
    return {
      name: use.name,
      namespace: use.namespace,
      type: use.type,
      keys: [...keys.entries()].map(([key, holds]) => ({ key, holds })),
      usedBy,
      createCommand: `kubectl --namespace ${use.namespace} create secret generic ${use.name}${type} ${files}`,
    };
  });
}

/** The three keys of a certificate Secret (kubernetes.io/tls, as cert-manager writes it). */
export function tlsKeys(whose: string): EtcdSecretKey[] {
  return [
    { key: 'tls.crt', holds: `${whose} certificate (PEM)` },
    { key: 'tls.key', holds: `${whose} private key (PEM)` },
    { key: 'ca.crt', holds: 'the CA certificate the other side must chain to (PEM)' },
  ];
}
