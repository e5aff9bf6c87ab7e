// The event stream against the sandbox: reconnects, fail-fast, fatal errors, INIT timeout,
// per-request ordering, the concurrency limit with backpressure, credential rotation, and two
// replicas sharing one cluster (a crash between claim and send, a race on one request).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { decodeRecord } from '@tap/core';
import { RecordingMessenger, eventually, startTestPlugin, type TestPlugin } from '@tap/core/testing';

let sandbox: Sandbox;
const running: TestPlugin<unknown>[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ thresholds: { approve: 5, deny: 5 } });
});
afterAll(() => sandbox.close());
afterEach(async () => {
  sandbox.faults.holdInit = false;
  await Promise.all(running.splice(0).map((p) => p.stop(2000)));
});

async function start(options: Partial<Parameters<typeof startTestPlugin>[0]> = {}) {
  const p = await startTestPlugin({ sandbox, recipients: { '*': ['#all'] }, ...options });
  running.push(p as TestPlugin<unknown>);
  return { ...p, m: p.recording! };
}

const announce = async (m: RecordingMessenger) => {
  const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
  await m.waitFor(() => m.sendsOf(id).length === 1, 10_000, `the announcement of ${id}`);
  return id;
};

describe('reconnecting', () => {
  it('re-opens a dropped stream (UNAVAILABLE) and a cleanly closed one, and keeps handling events', async () => {
    const { m, log, plugin } = await start();
    await announce(m);

    sandbox.faults.dropWatchStreams();
    await eventually(() => log.find('Watcher connected').length === 2, 10_000, 'a reconnection');
    expect(log.find('Connection problem detected, attempting to reconnect')).toHaveLength(1);
    await announce(m);

    sandbox.faults.endWatchStreams();
    await eventually(() => log.find('Watcher connected').length === 3, 10_000, 'a second reconnection');
    expect(log.has('Watcher stream closed attempting to reconnect')).toBe(true);
    await announce(m);
    expect(plugin.stats.reconnects).toBe(2);
    expect(plugin.readiness()).toStrictEqual({ ready: true });
  });

  it('survives the Auth server restarting', async () => {
    const { m, log } = await start();
    await announce(m);
    await sandbox.restart();
    await eventually(() => log.find('Watcher connected').length >= 2, 15_000, 'a reconnection after the restart');
    await announce(m);
  });

  it('treats a stream without INIT as a connection problem', async () => {
    sandbox.faults.holdInit = true;
    const p = await start({ noStart: true, deps: { watchInitTimeoutMs: 200 } });
    const started = p.plugin.start();
    await eventually(() => p.log.find('Connection problem detected, attempting to reconnect').length > 0);
    const line = p.log.find('Connection problem detected, attempting to reconnect')[0] as { err?: { message?: string } };
    expect(line.err?.message).toBe('watcher initialization timed out');
    sandbox.faults.holdInit = false;
    await started;
    await announce(p.m);
  });
});

describe('TELEPORT_PLUGIN_FAIL_FAST', () => {
  it('exits instead of reconnecting when the stream drops', async () => {
    const { plugin } = await start({ deps: { env: { TELEPORT_PLUGIN_FAIL_FAST: 'true' } } });
    sandbox.faults.dropWatchStreams();
    await expect(plugin.done).rejects.toThrow('Connection problem detected. Exiting as fail fast is on.');
  });

  it('exits when the stream ends', async () => {
    const { plugin } = await start({ deps: { env: { TELEPORT_PLUGIN_FAIL_FAST: '1' } } });
    sandbox.faults.endWatchStreams();
    await expect(plugin.done).rejects.toThrow('Watcher stream closed. Exiting as fail fast is on.');
  });

  it('rejects a value Go would not parse as a bool, with Go\'s text', async () => {
    await expect(start({ deps: { env: { TELEPORT_PLUGIN_FAIL_FAST: 'yes' } } })).rejects.toThrow(
      "failed to parse content 'yes' of the TELEPORT_PLUGIN_FAIL_FAST environment variable",
    );
  });

  it('accepts Go\'s false spellings', async () => {
    const { plugin, log } = await start({ deps: { env: { TELEPORT_PLUGIN_FAIL_FAST: 'False' } } });
    sandbox.faults.dropWatchStreams();
    await eventually(() => log.find('Watcher connected').length === 2);
    expect(plugin.readiness().ready).toBe(true);
  });
});

describe('fatal watch errors', () => {
  it('stops with an error when the watch is refused', async () => {
    sandbox.faults.rejectNext('WatchEvents', grpc.status.PERMISSION_DENIED);
    const p = await start({ noStart: true });
    await expect(p.plugin.start()).rejects.toThrow(/injected failure|access denied/);
    expect(p.log.has('Watcher event loop failed')).toBe(true);
    await expect(p.plugin.done).rejects.toThrow();
  });

  it('fails when the server accepts none of the watched kinds', async () => {
    sandbox.setPermissions('no-read-plugin', { readRequests: false, readRules: false });
    const p = await start({ noStart: true, user: 'no-read-plugin' });
    await expect(p.plugin.start()).rejects.toThrow('failed to initialize watcher for all the required resources');
  });

  it('runs without Access Monitoring Rules when it may not read them', async () => {
    sandbox.setPermissions('no-rules-plugin', { readRules: false });
    const { m, log } = await start({ user: 'no-rules-plugin' });
    expect(log.has(/Failed to watch access_monitoring_rule events/)).toBe(true);
    await announce(m);
  });
});

describe('ordering and concurrency', () => {
  it('handles the events of one request one after another, in order', async () => {
    const messenger = new RecordingMessenger();
    const { m } = await start({ messenger });
    messenger.holdSends();
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await m.waitFor(() => m.inFlight === 1);
    // While the announcement is blocked, reviews pile up behind it (same request).
    for (const author of ['r1@example.com', 'r2@example.com', 'r3@example.com']) {
      await sandbox.review(id, { author, state: 'APPROVED', reason: author });
    }
    await sandbox.approve(id, 'done');
    messenger.releaseSends();
    await m.waitFor(() => m.updatesOf(id).some((u) => u.view.status === 'APPROVED'));
    expect(m.sendsOf(id)).toHaveLength(1);
    expect(m.repliesOf(id).map((r) => r.review.author)).toStrictEqual(['r1@example.com', 'r2@example.com', 'r3@example.com']);
    const statuses = m.updatesOf(id).map((u) => u.view.status);
    expect(statuses.at(-1)).toBe('APPROVED');
  });

  it('runs different requests concurrently up to the limit, and stops reading the stream at it', async () => {
    const messenger = new RecordingMessenger();
    const { m, plugin } = await start({ messenger, deps: { maxConcurrency: 4, catchUp: false } });
    messenger.holdSends();
    const before = plugin.stats.eventsReceived;
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] }));
    await m.waitFor(() => m.inFlight === 4);
    // The fifth event was read and waits for room; the stream is not read further.
    await eventually(() => plugin.stats.eventsReceived - before === 5);
    expect(m.inFlight).toBe(4);
    expect(plugin.stats.eventsReceived - before).toBe(5);
    messenger.releaseSends();
    await m.waitFor(() => ids.every((id) => m.sendsOf(id).length === 1));
    expect(m.maxInFlight).toBe(4);
  });
});

describe('credential rotation', () => {
  it('moves the stream onto renewed credentials without losing an event', async () => {
    const { m, log, identityPath } = await start({ refreshIdentity: true, refreshIdentityIntervalMs: 200 });
    const before = sandbox.callers.length;
    // Requests keep arriving while the identity file is rewritten for another user.
    const ids: string[] = [];
    const creating = (async () => {
      for (let i = 0; i < 30; i++) {
        ids.push(await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] }));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await sandbox.writeIdentity(identityPath, { user: 'rotated-plugin', roles: ['access-plugin'] });
    await eventually(() => log.has('Watcher re-opened with refreshed credentials'), 10_000, 'the stream re-opened');
    await creating;
    const late = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await m.waitFor(() => [...ids, late].every((id) => m.sendsOf(id).length >= 1), 10_000, 'every request announced');
    for (const id of [...ids, late]) expect(m.sendsOf(id), id).toHaveLength(1);
    expect(sandbox.callers.slice(before)).toContain('rotated-plugin');
  });
});

describe('two replicas', () => {
  const stored = (id: string) => {
    const raw = sandbox.pluginData(id, 'test');
    return raw ? decodeRecord(raw) : undefined;
  };

  it('re-announces once, after the lease, a request whose claimer crashed before sending', async () => {
    const leaseMs = 1500;
    const a = await start({ messenger: new RecordingMessenger(), deps: { instanceId: 'replica-a', claimLeaseMs: leaseMs } });
    a.m.holdSends();
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await a.m.waitFor(() => a.m.inFlight === 1, 10_000, 'replica A sending');
    const claim = stored(id)?.claim;
    expect(claim?.by).toBe('replica-a');
    // A dies mid-send: its send never completes and nothing more is written.
    await a.stop(0);
    expect(stored(id)).toMatchObject({ messages: [], unsent: ['#all'], claim: { by: 'replica-a' } });

    const b = await start({ messenger: new RecordingMessenger(), deps: { instanceId: 'replica-b', claimLeaseMs: leaseMs } });
    await b.m.waitFor(() => b.m.sendsOf(id).length === 1, 10_000, 'replica B taking over');
    await eventually(() => stored(id)?.messages.length === 1 && !stored(id)?.claim, 5000, 'the take-over recorded');
    // Not before A's claim ran out (a live claim is never taken over).
    expect(Date.parse(b.m.sendsOf(id)[0]!.message.sentAt!)).toBeGreaterThanOrEqual(claim!.at.getTime() + leaseMs);
    expect(b.log.find('Taking over an unfinished announcement')[0]).toMatchObject({ previous_owner: 'replica-a' });

    // Later events reply to that one message; nothing is posted again.
    await sandbox.review(id, { author: 'r1@example.com', state: 'APPROVED', reason: 'ok' });
    await b.m.waitFor(() => b.m.repliesOf(id).length === 1, 10_000, 'the review reply');
    expect(b.m.sendsOf(id)).toHaveLength(1);
    expect(a.m.sends).toHaveLength(0);
  });

  it('posts each request once when two replicas handle it at the same time', async () => {
    const a = await start({ messenger: new RecordingMessenger(), deps: { instanceId: 'replica-a' } });
    const b = await start({ messenger: new RecordingMessenger(), deps: { instanceId: 'replica-b' } });
    // Both see every event; holding A's sends keeps its claims open while B handles the same events.
    a.m.holdSends();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] }));
    const total = (id: string) => a.m.sendsOf(id).length + b.m.sendsOf(id).length;
    await eventually(() => ids.every((id) => stored(id)?.claim || stored(id)?.messages.length), 10_000, 'every request claimed');
    a.m.releaseSends();
    await eventually(() => ids.every((id) => total(id) >= 1 && stored(id)?.messages.length === 1 && !stored(id)?.claim), 10_000, 'every request posted');
    for (const id of ids) expect(total(id), id).toBe(1);
    // Each resolution is shown once, by whichever replica wins it.
    for (const id of ids) await sandbox.approve(id, 'ok');
    await eventually(() => ids.every((id) => a.m.updatesOf(id).length + b.m.updatesOf(id).length >= 1), 10_000, 'every resolution shown');
    await eventually(() => ids.every((id) => stored(id)?.request.resolution === 'APPROVED'));
    for (const id of ids) {
      expect(a.m.updatesOf(id).length + b.m.updatesOf(id).length, id).toBe(1);
      expect(a.m.notificationsOf(id).length + b.m.notificationsOf(id).length, id).toBe(1);
    }
  });
});
