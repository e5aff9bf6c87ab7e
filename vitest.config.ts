import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url));

// Tests import workspace packages from source, so a change is tested without a rebuild.
// CLI tests that spawn a `teleport-<x>` process use the built dist/ (the test script runs tsc -b first).
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@tap\/core\/testing$/, replacement: src('core/src/testing/index.ts') },
      { find: /^@tap\/(core|sandbox|slack|mattermost|discord|email|msteams)$/, replacement: src('$1/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'deploy/test/**/*.test.ts', 'scripts/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
