/**
 * PKI benchmark: `EtcdStaticPodCluster.generatePki()` for 3 nodes (a CA and 12 leaf certificates, RSA 2048),
 * and how much of it is RSA key generation alone (13 keys, Node's native generator, as the PKI makes them).
 *
 * `npm run bench:pki`; `BENCH_SAMPLES` sets the runs (default 9). Key generation searches for primes at
 * random, so single runs vary by a factor of two: read the median.
 */
import { generateKeyPairSync } from 'crypto';
import { performance } from 'perf_hooks';
import { App } from 'cdk8s';
import { EtcdStaticPodCluster } from '../lib';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 9);
const KEYS = 13;

function median(run: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const cluster = new EtcdStaticPodCluster(new App(), 'etcd', {
  nodes: [{ name: 'cp-1', ip: '10.0.0.1' }, { name: 'cp-2', ip: '10.0.0.2' }, { name: 'cp-3', ip: '10.0.0.3' }],
});
cluster.generatePki(); // warm-up
const pki = median(() => cluster.generatePki());
const keys = median(() => {
  for (let i = 0; i < KEYS; i++) generateKeyPairSync('rsa', { modulusLength: 2048 });
});
console.log(`node ${process.version} (OpenSSL ${process.versions.openssl}), median of ${SAMPLES}`);
console.log('| what | time |');
console.log('| --- | ---: |');
console.log(`| generatePki() for 3 nodes (13 certificates) | ${pki.toFixed(0)} ms |`);
console.log(`| of which: ${KEYS} RSA-2048 keys alone | ${keys.toFixed(0)} ms |`);
console.log(`| the rest (certificates, signing, PEM) | ${Math.max(0, pki - keys).toFixed(0)} ms |`);
