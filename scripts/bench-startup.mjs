#!/usr/bin/env node
// Startup figures of the single executable (issue targets: `version` ≤ 0.2 s, `start` reaching
// "Plugin is ready" against the sandbox ≤ 0.5 s). Builds dist/bin/teleport-slack if missing.
//   pnpm bench:startup
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BINARY = join(ROOT, 'dist/bin/teleport-slack');
const RUNS = 10;
if (!existsSync(BINARY)) execFileSync(process.execPath, [join(ROOT, 'scripts/build-sea.mjs'), 'slack'], { stdio: 'inherit' });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const env = { PATH: '/nonexistent', HOME: tmpdir() };

const versionMs = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  execFileSync(BINARY, ['version'], { env });
  versionMs.push(performance.now() - t);
}

const { startSandbox } = await import(pathToFileURL(join(ROOT, 'packages/sandbox/dist/index.js')).href);
const { FakeSlack } = await import(pathToFileURL(join(ROOT, 'packages/slack/dist/testing/fake-slack.js')).href);
const sandbox = await startSandbox({ clusterName: 'bench.test' });
const fake = await FakeSlack.start();
const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
await sandbox.writeIdentity(join(dir, 'auth_id'), { user: 'slack-plugin' });
const config = join(dir, 'teleport-slack.toml');
writeFileSync(config, `[teleport]\naddr = "${sandbox.authAddr}"\nidentity = "${join(dir, 'auth_id')}"\n[slack]\ntoken = "${fake.token}"\napiurl = "${fake.url}"\n[role_to_recipients]\n"*" = ["#bench"]\n`);

const readyMs = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  const proc = spawn(BINARY, ['start', '-c', config], { env });
  await new Promise((resolve, reject) => {
    let log = '';
    const onData = (d) => {
      log += d;
      if (log.includes('Plugin is ready')) {
        readyMs.push(performance.now() - t);
        resolve();
      }
    };
    proc.stderr.on('data', onData);
    proc.stdout.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`exited ${code}: ${log}`)));
  });
  proc.removeAllListeners('exit');
  await new Promise((r) => {
    proc.on('exit', r);
    proc.kill('SIGTERM');
  });
}
await fake.close();
await sandbox.stop();

const rows = [
  ['`teleport-slack version` (single executable)', median(versionMs), 200],
  ['`teleport-slack start` → "Plugin is ready" (single executable, sandbox)', median(readyMs), 500],
];
console.log(`machine: ${cpus()[0]?.model} ×${cpus().length}, node ${process.version}, median of ${RUNS}`);
for (const [what, ms, target] of rows) console.log(`${what}: ${ms.toFixed(0)} ms (target ≤ ${target} ms) ${ms <= target ? 'OK' : 'OVER'}`);
