// Catch-up after downtime, beyond the Go daemons: what happened while the plugin was stopped or
// disconnected — requests created, reviewed, resolved or deleted — is found by listing requests
// and this plugin's data after every connection, and shown as if the plugin had been watching.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { RecordingMessenger, eventually, startTestPlugin } from '@tap/core/testing';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ thresholds: { approve: 2, deny: 2 } });
});
afterAll(() => sandbox.close());

const announced = (id: string) => {
  const raw = sandbox.pluginData(id, 'test');
  return Boolean(raw?.messages) && !raw?.claimed_by;
};

describe('a plugin that was stopped', () => {
  it('announces, replies, resolves and expires what happened meanwhile, each once', async () => {
    const first = await startTestPlugin({ sandbox, recipients: { '*': ['#ops'] } });
    const reviewed = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    const approved = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    const deleted = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    const untouched = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await eventually(() => [reviewed, approved, deleted, untouched].every(announced), 10_000, 'all announced');
    await first.stop();

    // While nobody watches:
    const created = await sandbox.createRequest({ user: 'bob@example.com', roles: ['editor'] });
    await sandbox.review(reviewed, { author: 'carol@example.com', state: 'APPROVED', reason: 'fine by me' });
    await sandbox.approve(approved, 'go ahead');
    await sandbox.expire(deleted);

    // A new process: it knows nothing but what Teleport tells it.
    const m = new RecordingMessenger();
    const second = await startTestPlugin({ sandbox, messenger: m, recipients: { '*': ['#ops'] } });
    try {
      await m.waitFor(() => m.sendsOf(created).length === 1 && m.repliesOf(reviewed).length === 1 && m.updatesOf(approved).length > 0 && m.updatesOf(deleted).length > 0, 10_000);
      expect(m.repliesOf(reviewed)[0]!.review).toMatchObject({ author: 'carol@example.com', reason: 'fine by me' });
      expect(m.updatesOf(approved).at(-1)!.view.status).toBe('APPROVED');
      expect(m.updatesOf(deleted).at(-1)!.view.status).toBe('EXPIRED');
      // Nothing already shown is posted or changed again.
      expect(m.sends.map((s) => s.view.id)).toStrictEqual([created]);
      expect(m.updatesOf(untouched)).toHaveLength(0);
      expect(second.log.find('Caught up on access requests')[0]).toMatchObject({ deleted: 1 });
    } finally {
      await second.stop();
    }
  });
});

describe('a backlog longer than one page', () => {
  it('is announced in full, once each, oldest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 1_100; i++) ids.push(await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] }));
    const m = new RecordingMessenger();
    const p = await startTestPlugin({ sandbox, messenger: m, recipients: { '*': ['#ops'] } });
    try {
      const position = new Map(ids.map((id, i) => [id, i]));
      const announced = () => m.sends.filter((s) => position.has(s.view.id));
      await m.waitFor(() => announced().length >= ids.length, 30_000);
      expect(new Set(announced().map((s) => s.view.id)).size).toBe(ids.length);
      expect(announced()).toHaveLength(ids.length);
      // Pages arrive oldest first: the first sends all come from the first page of 500 (within
      // the 128 handled at once, sends finish in any order, so finer order is not checked).
      const first = announced().slice(0, 100).map((s) => position.get(s.view.id)!);
      expect(Math.max(...first)).toBeLessThan(500);
      // The newest page cannot start before most of the older ones were admitted (a server
      // that ignored the sort would mix new requests into the first page).
      const early = announced().slice(0, 600).map((s) => position.get(s.view.id)!);
      expect(Math.max(...early)).toBeLessThan(1_000);
    } finally {
      await p.stop();
    }
  }, 60_000);
});

describe('a plugin that reconnects', () => {
  // The stream drops and stays down (no INIT) while a request is deleted; catch-up must find out.
  async function deleteWhileDisconnected(p: Awaited<ReturnType<typeof startTestPlugin>>, id: string, beforeReconnect: () => void) {
    sandbox.faults.holdInit = true;
    sandbox.faults.dropWatchStreams();
    await eventually(() => p.plugin.readiness().ready === false, 10_000, 'the disconnection');
    await sandbox.expire(id);
    beforeReconnect();
    sandbox.faults.holdInit = false;
  }

  it('retries a failed listing of plugin data, so a request deleted meanwhile is still shown expired', async () => {
    const m = new RecordingMessenger();
    const p = await startTestPlugin({ sandbox, messenger: m, recipients: { '*': ['#ops'] }, deps: { watchInitTimeoutMs: 300 } });
    try {
      const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
      await eventually(() => announced(id), 10_000, 'the announcement');
      await eventually(() => p.plugin.stats.catchUps === 1, 10_000, 'the first catch-up');
      await deleteWhileDisconnected(p, id, () => sandbox.faults.rejectNext('GetPluginData', grpc.status.UNAVAILABLE, 1));
      await m.waitFor(() => m.updatesOf(id).at(-1)?.view.status === 'EXPIRED', 15_000);
      expect(p.log.has('Could not list plugin data; reading it request by request')).toBe(false);
    } finally {
      sandbox.faults.holdInit = false;
      await p.stop();
    }
  });

  it('remembers open requests itself when the cluster refuses to list plugin data', async () => {
    sandbox.faults.rejectNext('GetPluginData', grpc.status.PERMISSION_DENIED, 1);
    const m = new RecordingMessenger();
    const p = await startTestPlugin({ sandbox, messenger: m, recipients: { '*': ['#ops'] }, deps: { watchInitTimeoutMs: 300 } });
    try {
      await eventually(() => p.plugin.stats.catchUps === 1, 10_000, 'the first catch-up');
      const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
      await eventually(() => announced(id), 10_000, 'the announcement');
      await deleteWhileDisconnected(p, id, () => sandbox.faults.rejectNext('GetPluginData', grpc.status.PERMISSION_DENIED, 1));
      await m.waitFor(() => m.updatesOf(id).at(-1)?.view.status === 'EXPIRED', 15_000);
      expect(p.log.find('Could not list plugin data; reading it request by request')).toHaveLength(2);
    } finally {
      sandbox.faults.holdInit = false;
      await p.stop();
    }
  });
});
