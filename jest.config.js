/** Unit, snapshot and schema tests; test/e2e holds the real-etcd scenarios. */
module.exports = {
  testEnvironment: 'node',
  // The real-etcd scenarios mostly wait on etcd; run them side by side even on two cores.
  maxWorkers: 4,
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/support/quiet-warnings.ts'],
  transform: {
    // Type checking is done once by `npm run lint` (tsc -p test/tsconfig.json); here we only transpile.
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }],
  },
  // lib/*.js from the jsii build sit next to the sources: resolve .ts first, so the sources are tested.
  moduleFileExtensions: ['ts', 'js', 'json'],
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
};
