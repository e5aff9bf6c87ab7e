// The plugin process of `pnpm bench`: one createPlugin at a time, driven by messages from the
// parent (bench.mjs) over a pipe. bench.mjs bundles this file as the single executables are bundled
// (bundle.mjs) and runs it with the shipped Node flags, so what is measured is what ships.
import { Socket } from 'node:net';
import { createLogger, createPlugin } from '../packages/core/dist/index.js';
import { recordingChannel } from '../packages/core/dist/testing/plugin-harness.js';
import { RecordingMessenger } from '../packages/core/dist/testing/recording-messenger.js';
import { readMessages, writeMessage } from './json-lines.mjs';

/** A clock both processes share (ms since the epoch, sub-ms resolution). */
const now = () => performance.timeOrigin + performance.now();
// Messages are JSON lines on fd 3, a pipe the parent opened (see bench.mjs).
const channel = new Socket({ fd: 3, readable: true, writable: true });
const reply = (message) => writeMessage(channel, message);

let plugin;
let sent = 0;
let trimsAtLastSend = 0;
let reportEach = false;
let untilCount = Infinity;

/** Records nothing (100 000 kept views would be the benchmark's memory, not the plugin's). */
class BenchMessenger extends RecordingMessenger {
  async send(to, view, signal) {
    const message = await super.send(to, view, signal);
    this.sends.length = 0;
    sent++;
    trimsAtLastSend = plugin?.stats.memoryTrims ?? 0;
    if (reportEach) reply({ type: 'send', id: view.id, t: now() });
    if (sent >= untilCount) {
      untilCount = Infinity;
      reply({ type: 'reached', count: sent, t: now() });
    }
    return message;
  }
}

// To stderr, as under systemd (journald) or Docker; the parent points stderr at /dev/null.
const logConfig = { output: 'stderr', severity: 'info', format: 'json' };
const log = createLogger(logConfig);
const messenger = new BenchMessenger();

readMessages(channel, (msg) => void onMessage(msg));

async function onMessage(msg) {
  switch (msg.cmd) {
    case 'start': {
      const config = {
        file: 'bench.toml',
        teleport: { addr: msg.addr, identity: msg.identity, refreshIdentity: false, refreshIdentityIntervalMs: 60_000 },
        log: logConfig,
        http: {},
        roleToRecipients: { '*': ['#bench'] },
        section: {},
        warnings: [],
      };
      plugin = createPlugin(recordingChannel('bench', messenger), config, { log, messenger, instanceId: 'bench' });
      const t = now();
      await plugin.start();
      reply({ type: 'started', t, readyAt: now() });
      break;
    }
    case 'caught-up': {
      // Catch-up runs in the background after every connection; wait for it to finish.
      while (plugin.stats.catchUps < 1) await new Promise((r) => setTimeout(r, 20));
      reply({ type: 'caught-up' });
      break;
    }
    case 'stop':
      await plugin.stop();
      plugin = undefined;
      reply({ type: 'stopped' });
      break;
    case 'report':
      reportEach = msg.each;
      reply({ type: 'ok' });
      break;
    case 'until':
      if (sent >= msg.count) reply({ type: 'reached', count: sent, t: now() });
      else untilCount = msg.count;
      break;
    case 'memory': {
      // Measured as an operator would see it: once the plugin, quiet after its last send, has
      // given memory back by itself (packages/core/src/memory-trim.ts, needs --expose-gc).
      const deadline = Date.now() + 30_000;
      while (plugin && typeof globalThis.gc === 'function' && plugin.stats.memoryTrims <= trimsAtLastSend && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const { rss, heapUsed } = process.memoryUsage();
      if (process.env.BENCH_DEBUG) await printMemoryDetail();
      reply({ type: 'memory', rss, heapUsed, sent });
      break;
    }
    case 'exit':
      process.exit(0);
  }
}
reply({ type: 'hello' });

/** BENCH_DEBUG: V8 heap spaces, resident memory by mapping, anonymous regions by size. */
async function printMemoryDetail() {
  const v8 = await import('node:v8');
  const { readFileSync } = await import('node:fs');
  const mb = (bytes) => (bytes / 1048576).toFixed(0);
  const spaces = v8.getHeapSpaceStatistics().map((x) => `${x.space_name}:${mb(x.space_size)}`).join(' ');
  const maps = readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
  const byName = new Map();
  const bySize = new Map();
  for (const m of maps) {
    const head = m.split('\n')[0].split(/\s+/);
    const rssKb = Number(/\nRss:\s+(\d+)/.exec(m)?.[1] ?? 0);
    const name = head[5] ? head[5].split('/').pop() : '[anon]';
    byName.set(name, (byName.get(name) ?? 0) + rssKb);
    if (!head[5]) {
      const [a, b] = head[0].split('-').map((x) => parseInt(x, 16));
      const sizeKb = Math.round((b - a) / 1024);
      const e = bySize.get(sizeKb) ?? [0, 0];
      bySize.set(sizeKb, [e[0] + 1, e[1] + rssKb]);
    }
  }
  const top = (map, fmt) => [...map.entries()].sort((x, y) => (y[1][1] ?? y[1]) - (x[1][1] ?? x[1])).slice(0, 8).map(fmt).join(' ');
  console.log('heap spaces MB:', spaces);
  console.log('resident MB by mapping:', top(byName, ([k, v]) => `${k}:${(v / 1024).toFixed(0)}`));
  console.log('anonymous regions (KB: count/resident MB):', top(bySize, ([k, [c, r]]) => `${k}:${c}/${(r / 1024).toFixed(0)}`));
}
