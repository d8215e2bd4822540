export * from './version';
export * from './auto-compaction';
export * from './tuning';
export * from './resources';
export * from './network-peer';
export * from './tls';
export * from './cluster';
