#!/usr/bin/env node
// Engine benchmark: the real createPlugin against the sandbox Auth server (gRPC over mTLS), with
// the RecordingMessenger in place of a chat service. Figures and targets (docs/benchmarks.md):
//   - notify latency at 50 req/s, from createRequest to the messenger's send: p99 ≤ 20 ms
//   - catch-up: 10 000 requests created while the plugin is stopped, announced ≤ 10 s after start
//   - plugin RSS idle ≤ 70 MB, and growth after 100 000 requests ≤ 30 MB
// The plugin runs in its own process (what it would be in production), the sandbox in this one,
// so the memory figures are the plugin's alone. Exits 1 when a target is missed.
//   pnpm bench [--quick]      (--quick: smaller counts, targets scaled where they are rates)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundle } from './bundle.mjs';
import { readMessages, writeMessage } from './json-lines.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const load = (path) => import(pathToFileURL(join(ROOT, path)).href);
/** A clock both processes share (ms since the epoch, sub-ms resolution). */
const now = () => performance.timeOrigin + performance.now();

await main();

// ---------------------------------------------------------------------------------------------
// The driver: sandbox, load, measurements, table.

async function main() {
  const quick = process.argv.includes('--quick');
  const counts = quick
    ? { latencySeconds: 5, backlog: 1_000, total: 10_000 }
    : { latencySeconds: 30, backlog: 10_000, total: 100_000 };
  const RATE = 50;
  // Node flags of the plugin process: the shipped ones (deploy/node-options.json), or
  // --node-flags="…" instead ("" for Node's defaults).
  const flagArg = process.argv.find((a) => a.startsWith('--node-flags='));
  const shipped = JSON.parse(readFileSync(join(ROOT, 'deploy/node-options.json'), 'utf8')).execArgv;
  const nodeFlags = flagArg ? flagArg.slice('--node-flags='.length).split(' ').filter(Boolean) : shipped;
  const MB = 1024 * 1024;
  const { startSandbox } = await load('packages/sandbox/dist/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'tap-bench-'));
  // The plugin process runs the engine bundled as the binaries ship it.
  const workerBundle = join(dir, 'bench-worker.cjs');
  await bundle({ entry: join(ROOT, 'scripts/bench-worker.mjs'), outfile: workerBundle });

  /** A fresh sandbox and plugin process. */
  async function setup(name) {
    const sandbox = await startSandbox({ clusterName: `${name}.bench.test`, thresholds: { approve: 1, deny: 1 } });
    sandbox.addUser({ name: 'alice@example.com', roles: ['editor'], traits: { logins: ['alice'] } });
    const identity = join(dir, `${name}-auth_id`);
    await sandbox.writeIdentity(identity, { user: 'bench-plugin', roles: ['access-plugin'] });
    // Messages go as JSON lines over a plain pipe (fd 3), not Node's IPC channel: IPC loads
    // child_process and friends into the plugin process (~3 MB) that a real plugin never has.
    const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
    const child = spawn(process.execPath, [...nodeFlags, ...prof, workerBundle], { stdio: ['ignore', 'inherit', 'ignore', 'pipe'] });
    child.send = (message) => writeMessage(child.stdio[3], message);
    readMessages(child.stdio[3], (message) => child.emit('message', message));
    const inbox = [];
    const waiting = [];
    child.on('message', (m) => {
      const at = waiting.findIndex((w) => w.type === m.type);
      if (at >= 0) waiting.splice(at, 1)[0].resolve(m);
      else if (m.type !== 'send') inbox.push(m);
    });
    child.on('exit', (code) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`plugin process exited (${code})`));
    });
    /** The next message of `type` (earlier unclaimed ones first). */
    const next = (type, timeoutMs = 120_000) => {
      const at = inbox.findIndex((m) => m.type === type);
      if (at >= 0) return Promise.resolve(inbox.splice(at, 1)[0]);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for "${type}" from the plugin process`)), timeoutMs);
        waiting.push({ type, resolve: (m) => (clearTimeout(timer), resolve(m)), reject });
      });
    };
    const ask = (cmd, type, extra = {}, timeoutMs) => {
      const answer = next(type, timeoutMs);
      child.send({ cmd, ...extra });
      return answer;
    };
    await next('hello');
    const start = () => ask('start', 'started', { addr: sandbox.authAddr, identity });
    const create = () => sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'], reason: 'benchmark' });
    const close = async () => {
      child.send({ cmd: 'exit' });
      await sandbox.close();
    };
    return { sandbox, child, next, ask, start, create, close };
  }

  const results = [];
  const row = (what, value, unit, target, pass) => results.push({ what, value, unit, target, pass });

  // 1. Notify latency at 50 req/s, and 2. catch-up of a backlog created while stopped.
  {
    const s = await setup('latency');
    await s.start();
    await s.ask('caught-up', 'caught-up');
    // Warm-up (JIT, connection windows), not measured.
    for (let i = 0; i < 200; i++) await s.create();
    await s.ask('until', 'reached', { count: 200 });
    await s.ask('report', 'ok', { each: true });
    const n = counts.latencySeconds * RATE;
    const createdAt = new Map();
    const latencies = [];
    const done = new Promise((resolve) => {
      s.child.on('message', (m) => {
        if (m.type !== 'send' || !createdAt.has(m.id)) return;
        latencies.push(m.t - createdAt.get(m.id));
        if (latencies.length === n) resolve();
      });
    });
    const t0 = now() + 50;
    for (let i = 0; i < n; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t = now();
      createdAt.set(await s.create(), t);
    }
    await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${latencies.length}/${n} requests announced`)), 30_000))]);
    await s.ask('report', 'ok', { each: false });
    latencies.sort((a, b) => a - b);
    const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
    row(`notify latency p50 (${n} requests at ${RATE}/s)`, pct(50), 'ms', undefined, true);
    row(`notify latency p99 (${n} requests at ${RATE}/s)`, pct(99), 'ms', '≤ 20 ms', pct(99) <= 20);

    await s.ask('stop', 'stopped');
    const before = (await s.ask('memory', 'memory')).sent;
    for (let i = 0; i < counts.backlog; i++) await s.create();
    const reached = s.next('reached', 300_000);
    s.child.send({ cmd: 'until', count: before + counts.backlog });
    const cpuOf = (pid) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13).reduce((a, b) => a + Number(b) * 10, 0);
    const cpu0 = [cpuOf(s.child.pid), process.cpuUsage()];
    const started = await s.start();
    const { t } = await reached;
    if (process.env.BENCH_DEBUG) console.error(`catch-up CPU ms: plugin ${cpuOf(s.child.pid) - cpu0[0]}, sandbox and driver ${Math.round(Object.values(process.cpuUsage(cpu0[1])).reduce((a, b) => a + b) / 1000)}`);
    const seconds = (t - started.t) / 1000;
    const limit = (10 * counts.backlog) / 10_000;
    row(`catch-up: ${counts.backlog.toLocaleString('en')} pending announced after start`, seconds, 's', `≤ ${limit} s`, seconds <= limit);
    await s.close();
  }

  // 3. Memory: idle, then after `total` requests (paced so the stream never holds more than 1000).
  {
    const s = await setup('memory');
    await s.start();
    await s.ask('caught-up', 'caught-up');
    const idle = await s.ask('memory', 'memory');
    row('plugin RSS idle', idle.rss / MB, 'MB', '≤ 70 MB', idle.rss / MB <= 70);
    const WINDOW = 1000;
    const t = now();
    for (let i = 0; i < counts.total; i++) {
      if (i >= WINDOW && i % 100 === 0) await s.ask('until', 'reached', { count: i - WINDOW / 2 });
      await s.create();
    }
    await s.ask('until', 'reached', { count: counts.total }, 600_000);
    const rate = counts.total / ((now() - t) / 1000);
    const after = await s.ask('memory', 'memory');
    const growth = (after.rss - idle.rss) / MB;
    row(`plugin RSS growth after ${counts.total.toLocaleString('en')} requests (${Math.round(rate)} req/s sustained)`, growth, 'MB', '≤ 30 MB', growth <= 30);
    row(`  (heap used idle → after)`, `${(idle.heapUsed / MB).toFixed(1)} → ${(after.heapUsed / MB).toFixed(1)}`, 'MB', undefined, true);
    await s.close();
  }
  rmSync(dir, { recursive: true, force: true });

  const cpu = cpus();
  console.log(`\nmachine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, node ${process.version}${quick ? '  (--quick: reduced counts)' : ''}\n`);
  const fmt = (v) => (typeof v === 'number' ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : v);
  const widths = [Math.max(...results.map((r) => r.what.length)), 14, 10];
  console.log(`${'measure'.padEnd(widths[0])}  ${'value'.padStart(widths[1])}  ${'target'.padEnd(widths[2])}  result`);
  console.log(`${'-'.repeat(widths[0])}  ${'-'.repeat(widths[1])}  ${'-'.repeat(widths[2])}  ------`);
  for (const r of results) {
    console.log(`${r.what.padEnd(widths[0])}  ${`${fmt(r.value)} ${r.unit}`.padStart(widths[1])}  ${(r.target ?? '').padEnd(widths[2])}  ${r.target ? (r.pass ? 'PASS' : 'FAIL') : ''}`);
  }
  const failed = results.filter((r) => !r.pass);
  console.log(failed.length ? `\n${failed.length} target(s) missed` : '\nall targets met');
  process.exit(failed.length ? 1 : 0);
}
