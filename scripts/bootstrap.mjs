#!/usr/bin/env node
// One-command entry for a fresh clone on a machine with only Node and npm:
// installs the pinned pnpm if missing, installs dependencies from the lockfile (which also
// brings the project's pinned Node 24), then runs the given package script with it.
import { execFileSync, spawnSync } from 'node:child_process';

const PNPM = 'pnpm@10.34.9';
const script = process.argv[2];
if (!script) {
  console.error('usage: node scripts/bootstrap.mjs <script>');
  process.exit(2);
}

function hasPnpm() {
  try {
    return execFileSync('pnpm', ['--version'], { encoding: 'utf8' }).trim().startsWith('10.');
  } catch {
    return false;
  }
}

const pnpm = hasPnpm() ? ['pnpm'] : ['npx', '-y', PNPM];
const run = (args) => {
  const r = spawnSync(pnpm[0], [...pnpm.slice(1), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(['install', '--frozen-lockfile']);
run(['run', script, ...process.argv.slice(3)]);
