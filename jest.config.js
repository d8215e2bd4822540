/**
 * Two kinds of tests, as Jest projects:
 * - `unit`: unit, snapshot, schema and example tests (`npm run unit`);
 * - `bindings`: the Python, Java and Go examples against the jsii-pacmak packages in dist-pkg/ (`npm run bindings`);
 * - `etcd 3.N`: the real-etcd scenarios in test/e2e, once per etcd line. Each line is its own project so
 *   Jest runs every (scenario, line) file side by side; the harness reads the line from `ETCD_LINE`.
 *   The lines are Debian's 3.4 and one per wrapper module in test/e2e/etcd-lines/.
 * - `kubernetes`: test/e2e/kube, against a real control plane (scripts/build-kube.sh), once. `npm test` runs it after
 *   the others, two files at a time: each file runs an API server, controllers and three etcd members, and with
 *   three such files beside the real-etcd scenarios on two cores, readiness answers came late enough for the
 *   StatefulSet controller to replace members a test expected it to leave alone.
 */
const fs = require('fs');
const path = require('path');

const linesDir = path.join(__dirname, 'test/e2e/etcd-lines');
const builtLines = fs.readdirSync(linesDir).filter((d) => fs.existsSync(path.join(linesDir, d, 'go.mod'))).sort();

const common = {
  testEnvironment: 'node',
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

module.exports = {
  // The real-etcd scenarios mostly wait on etcd; run them side by side even on two cores.
  maxWorkers: 4,
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/test'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/', '<rootDir>/test/bindings/'],
    },
    // Building a language's examples takes minutes on a cold machine (Maven, pip and Go downloads).
    { ...common, displayName: 'bindings', roots: ['<rootDir>/test/bindings'], testTimeout: 15 * 60 * 1000 },
    ...['3.4', ...builtLines].map((line) => ({
      ...common,
      displayName: `etcd ${line}`,
      roots: ['<rootDir>/test/e2e'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/kube/'],
      globals: { ETCD_LINE: line },
    })),
    { ...common, displayName: 'kubernetes', roots: ['<rootDir>/test/e2e/kube'], testTimeout: 5 * 60 * 1000 },
  ],
};
