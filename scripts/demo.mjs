#!/usr/bin/env node
// The demo: a sandbox Teleport cluster, local stand-ins for Slack, Mattermost, Discord,
// Microsoft Teams and an SMTP server, and the five plugins running as real processes against
// them. One access request is created, reviewed and approved; the script then prints what each
// service received, as a readable transcript, and stops the plugins (exit 0 on success).
//   npm run demo            (from a fresh clone: installs everything first)
//   pnpm demo:run [slack …]  (only the named plugins)
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORK = join(ROOT, '.demo');
const imp = (rel) => import(pathToFileURL(join(ROOT, rel)).href);
const say = (line = '') => process.stdout.write(`${line}\n`);

const { startSandbox } = await imp('packages/sandbox/dist/index.js');
const CHANNELS = (await import('./demo-channels.mjs')).CHANNELS;
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(CHANNELS);

rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });

say('Starting a sandbox Teleport cluster…');
const sandbox = await startSandbox({ clusterName: 'demo.example.com', advancedWorkflows: true, proxyPublicAddr: 'teleport.demo.example.com:443' });
say(`  Auth: ${sandbox.authAddr}  (cluster demo.example.com)`);

const running = [];
let failed = false;
try {
  for (const name of wanted) {
    const channel = CHANNELS[name];
    const dir = join(WORK, name);
    mkdirSync(dir, { recursive: true });
    const fake = await channel.startFake(dir);
    const identity = join(dir, 'auth_id');
    await sandbox.writeIdentity(identity, { user: `${name}-plugin`, roles: ['access-plugin'] });
    const configPath = join(dir, `teleport-${name}.toml`);
    writeFileSync(configPath, `[teleport]\naddr = "${sandbox.authAddr}"\nidentity = "${identity}"\n\n${channel.config(fake)}\n[log]\noutput = "stderr"\nseverity = "INFO"\n`);
    const proc = spawn(process.execPath, [join(ROOT, `packages/${name}/dist/bin.js`), 'start', '-c', configPath], {
      env: { ...process.env, ...(channel.env?.(fake) ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    proc.stdout.on('data', (d) => (log += d));
    proc.stderr.on('data', (d) => (log += d));
    const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    running.push({ name, channel, fake, proc, exited, log: () => log });
    say(`Starting teleport-${name} (against a local stand-in for ${channel.service})…`);
    await waitFor(() => log.includes('Plugin is ready'), 20_000, () => `teleport-${name} did not become ready:\n${log}`);
  }

  say();
  say('alice@example.com requests the role "editor": "Investigating the checkout outage (INC-4521)"');
  const id = await sandbox.createRequest({
    user: 'alice@example.com',
    roles: ['editor'],
    reason: 'Investigating the checkout outage (INC-4521)',
    suggestedReviewers: ['bob@example.com'],
  });
  say(`  request ${id}`);
  for (const r of running) await waitFor(() => r.channel.posted(r.fake) >= 1, 10_000, () => `${r.name}: no message posted\n${r.log()}`);

  say('bob@example.com approves it: "Go ahead, time-boxed to the incident"');
  await sandbox.review(id, { author: 'bob@example.com', state: 'APPROVED', reason: 'Go ahead, time-boxed to the incident' });
  for (const r of running) await waitFor(() => r.channel.resolved(r.fake), 10_000, () => `${r.name}: the approval never reached the message\n${r.log()}`);

  for (const r of running) {
    say();
    say(`==== What ${r.channel.service} received (teleport-${r.name}) ${'='.repeat(Math.max(0, 50 - r.name.length))}`);
    say(r.fake.transcript().trimEnd());
  }
} catch (err) {
  failed = true;
  process.stderr.write(`\ndemo failed: ${err.message}\n`);
} finally {
  for (const r of running) r.proc.kill('SIGTERM');
  for (const r of running) {
    const code = await r.exited;
    if (code !== 0) {
      failed = true;
      process.stderr.write(`teleport-${r.name} exited with ${code}:\n${r.log()}\n`);
    }
    await r.fake.close?.();
  }
  await sandbox.stop();
}
say();
say(failed ? 'Demo FAILED.' : 'Demo finished: every plugin posted, threaded the review, and marked the request approved.');
process.exit(failed ? 1 : 0);

async function waitFor(check, timeoutMs, describe) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((r) => setTimeout(r, 50));
  }
}
