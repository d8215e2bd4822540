/** @internal What a TLS source needs to know about the cluster it secures. */
export interface TlsBindContext {
  readonly name: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
}

/** @internal The Secrets a TLS source provides; each holds `tls.crt`, `tls.key` and `ca.crt`. */
export interface TlsSecrets {
  readonly server: string;
  readonly peer: string;
  readonly client?: string;
  /** A Secret whose `ca.crt` the peer port trusts too, while a cluster moves to a peer CA of its own. */
  readonly peerAlsoTrusted?: string;
  /** The user creates them (`fromSecrets()`); otherwise the construct or cert-manager does. */
  readonly userProvided?: boolean;
}
