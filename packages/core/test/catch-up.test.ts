// Catch-up after downtime, beyond the Go daemons: what happened while the plugin was stopped —
// requests created, reviewed, resolved or deleted — is found by listing requests and this
// plugin's data once at start, and shown as if the plugin had been watching.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
