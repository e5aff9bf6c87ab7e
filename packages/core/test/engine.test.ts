// The request state machine end to end: sandbox Auth server over mTLS gRPC, the real
// createPlugin, and a recording messenger in place of a chat service.
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { decodeRecord } from '@tap/core';
import { RecordingMessenger, eventually, startTestPlugin, type TestPlugin } from '@tap/core/testing';

let sandbox: Sandbox;
const running: TestPlugin<unknown>[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ advancedWorkflows: true, thresholds: { approve: 2, deny: 2 }, proxyPublicAddr: 'teleport.example.com:443' });
  sandbox.addRole({ name: 'dev', logins: ['{{internal.logins}}', 'deploy'] });
  sandbox.addUser({ name: 'alice@example.com', roles: [], traits: { logins: ['alice'] } });
});
afterAll(() => sandbox.close());
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

async function start(options: Partial<Parameters<typeof startTestPlugin>[0]> = {}) {
  const p = await startTestPlugin({ sandbox, recipients: { editor: ['#editors', 'lead@example.com'], '*': ['#all'] }, ...options });
  running.push(p as TestPlugin<unknown>);
  return { ...p, m: p.recording! };
}

const stored = (id: string) => {
  const raw = sandbox.pluginData(id, 'test');
  return raw ? decodeRecord(raw) : undefined;
};

describe('a pending request', () => {
  it('is posted once to each routed recipient and recorded in plugin data', async () => {
    const { m, log } = await start();
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'], reason: 'because of', suggestedReviewers: ['bob@example.com', 'Bob <bob@example.com>'] });
    await m.waitFor(() => m.sendsOf(id).length === 3);
    expect(m.sendsOf(id).map((s) => s.to.name).sort()).toStrictEqual(['#editors', 'bob@example.com', 'lead@example.com']);
    const view = m.sendsOf(id)[0]!.view;
    expect(view).toMatchObject({ id, user: 'alice@example.com', roles: ['editor'], requestReason: 'because of', status: 'PENDING', link: `https://teleport.example.com/web/requests/${id}` });
    const record = await eventually(() => (stored(id)?.messages.length === 3 && !stored(id)?.claim ? stored(id) : undefined));
    expect(record.messages.map((x) => x.messageId).sort()).toStrictEqual(m.sendsOf(id).map((s) => s.message.messageId).sort());
    expect(sandbox.pluginData(id, 'test')).toMatchObject({ user: 'alice@example.com', roles: 'editor', request_reason: 'because of' });
    expect(sandbox.pluginData(id, 'test')).not.toHaveProperty('claimed_at');
    expect(log.find('Successfully posted messages')).toHaveLength(3);
    expect(log.has('Failed to notify a suggested reviewer with an invalid email address')).toBe(true);
    expect(log.has('Plugin is ready')).toBe(true);
  });

  it('stores logins by role with the requester traits applied, and friendly resource names', async () => {
    const { m } = await start();
    sandbox.addNode({ name: 'node-uuid-1', hostname: 'web-1' });
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['dev'], resources: ['node/node-uuid-1', 'node/node-uuid-2'] });
    const sent = await m.nextSend();
    expect(sent.view.loginsByRole).toStrictEqual({ dev: ['alice', 'deploy'] });
    expect(sent.view.resources).toStrictEqual(['node/web-1', `/${sandbox.clusterName}/node/node-uuid-2`]);
    expect(sent.view.kind).toBe('resource');
    await eventually(() => stored(id)?.messages.length === 1);
    expect(sandbox.pluginData(id, 'test')?.logins_by_role).toBe('{"dev":["alice","deploy"]}');
  });

  it('gets one reply per review per message and a redraw, never twice', async () => {
    const { m } = await start();
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await eventually(() => stored(id)?.messages.length === 2 && !stored(id)?.claim);
    await sandbox.review(id, { author: 'reviewer1@example.com', state: 'APPROVED', reason: 'okay' });
    await m.waitFor(() => m.repliesOf(id).length === 2 && m.updatesOf(id).length === 2);
    expect(m.repliesOf(id).map((r) => r.review.author)).toStrictEqual(['reviewer1@example.com', 'reviewer1@example.com']);
    expect(m.updatesOf(id).every((u) => u.reason === 'review' && u.view.status === 'PENDING' && u.view.reviews.length === 1)).toBe(true);
    expect(stored(id)?.request.reviewsCount).toBe(1);
    // A second review: one more reply per message, for the new review only.
    await sandbox.review(id, { author: 'reviewer2@example.com', state: 'DENIED', reason: 'no' });
    await m.waitFor(() => m.repliesOf(id).length === 4);
    expect(m.repliesOf(id).slice(2).map((r) => r.review.author)).toStrictEqual(['reviewer2@example.com', 'reviewer2@example.com']);
  });
});

describe('resolution', () => {
  it('approval: review replies first, then one final update per message, then one requester notification', async () => {
    const { m } = await start();
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await eventually(() => stored(id)?.messages.length === 2 && !stored(id)?.claim);
    await sandbox.review(id, { author: 'reviewer1@example.com', state: 'APPROVED', reason: 'okay' });
    await sandbox.review(id, { author: 'reviewer2@example.com', state: 'APPROVED', reason: 'finally okay' });
    await m.waitFor(() => m.updatesOf(id).filter((u) => u.reason === 'resolution').length === 2 && m.notificationsOf(id).length === 1);
    const final = m.updatesOf(id).filter((u) => u.reason === 'resolution');
    expect(final.every((u) => u.view.status === 'APPROVED' && u.view.resolveReason === 'finally okay' && u.view.reviews.length === 2)).toBe(true);
    expect(m.repliesOf(id)).toHaveLength(4);
    expect(m.notificationsOf(id)[0]!.view.status).toBe('APPROVED');
    expect(sandbox.pluginData(id, 'test')).toMatchObject({ resolution: 'APPROVED', resolve_reason: 'finally okay', reviews_count: '2' });
  });

  it('denial by an admin shows DENIED with the reason', async () => {
    const { m } = await start();
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await eventually(() => stored(id)?.messages.length === 2 && !stored(id)?.claim);
    await sandbox.deny(id, 'not okay');
    await m.waitFor(() => m.updatesOf(id).length === 2);
    expect(m.updatesOf(id).map((u) => [u.view.status, u.view.resolveReason, u.reason])).toStrictEqual([
      ['DENIED', 'not okay', 'resolution'],
      ['DENIED', 'not okay', 'resolution'],
    ]);
  });

  it('deletion marks the messages EXPIRED from plugin data, but not after a resolution', async () => {
    const { m, log } = await start();
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'], reason: 'why' });
    await eventually(() => stored(id)?.messages.length === 2 && !stored(id)?.claim);
    await sandbox.expire(id);
    await m.waitFor(() => m.updatesOf(id).length === 2 && m.notificationsOf(id).length === 1);
    expect(m.updatesOf(id).map((u) => [u.view.status, u.view.requestReason])).toStrictEqual([
      ['EXPIRED', 'why'],
      ['EXPIRED', 'why'],
    ]);

    const approved = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await eventually(() => stored(approved)?.messages.length === 2 && !stored(approved)?.claim);
    await sandbox.approve(approved, 'ok');
    await m.waitFor(() => m.updatesOf(approved).length === 2 && m.notificationsOf(approved).length === 1);
    await sandbox.expire(approved);
    await eventually(() => log.find('Request is already resolved, ignoring event').some((l) => l.request_id === approved && l.request_op === 'delete'));
    expect(m.updatesOf(approved)).toHaveLength(2);
    expect(m.notificationsOf(approved)).toHaveLength(1);
  });

  it('a request resolved before it was ever announced posts nothing', async () => {
    const { m, log } = await start({ recipients: { editor: ['#editors'] } });
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['dev'] });
    await eventually(() => log.has('No channel to post'));
    await sandbox.approve(id, 'ok');
    await eventually(() => log.find(/plugin data is missing/).length > 0);
    expect(m.updatesOf(id)).toHaveLength(0);
  });
});

describe('recipients that fail', () => {
  it('skips an unknown recipient and a failing send without blocking the others', async () => {
    const messenger = new RecordingMessenger();
    messenger.unknownRecipients.add('#gone');
    messenger.failSendsTo('#broken');
    const { m, log } = await start({ messenger, recipients: { '*': ['#gone', '#broken', '#ok'] } });
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await eventually(() => stored(id)?.messages.length === 1 && !stored(id)?.claim);
    expect(m.sendsOf(id).map((s) => s.to.name)).toStrictEqual(['#ok']);
    expect(log.find('Failure when fetching recipient, continuing anyway')[0]?.recipient).toBe('#gone');
    expect(log.find('Failed to post message')[0]?.recipient).toBe('#broken');
  });
});

describe('Teleport unreachable right after a send', () => {
  it('keeps retrying the plugin-data record instead of posting the message again later', async () => {
    const messenger = new RecordingMessenger();
    const { m, log } = await start({ messenger, recipients: { '*': ['#ops'] }, deps: { claimLeaseMs: 200 } });
    messenger.holdSends();
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await eventually(() => stored(id)?.claim); // claimed; the send is held
    sandbox.faults.rejectNext('UpdatePluginData', grpc.status.UNAVAILABLE, 3);
    messenger.releaseSends();
    await eventually(() => stored(id)?.messages.length === 1 && !stored(id)?.claim, 10_000, 'the message recorded');
    // Logged once the write's answer is back, a moment after the sandbox applied it.
    await eventually(() => log.has('Recorded the sent message in plugin data'), 5_000, 'the log line of the record');
    expect(log.find('Could not record a sent message in plugin data yet, retrying')).toHaveLength(3);
    // A later event for the request (a review) must not take the announcement over again.
    await sandbox.review(id, { author: 'bob@example.com', state: 'APPROVED' });
    await m.waitFor(() => m.replies.length > 0 || m.updates.length > 0);
    expect(m.sendsOf(id)).toHaveLength(1);
  });
});

describe('stopping while a message is being sent', () => {
  it('waits for the stop budget, then aborts every handler still running', async () => {
    const p = await startTestPlugin({ sandbox, recipients: { '*': ['#all'] } });
    const m = p.recording!;
    m.holdSends();
    const ids = [
      await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] }),
      await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] }),
    ];
    await eventually(() => m.inFlight === 2, 10_000, 'two sends in progress');
    const stopped = p.plugin.stop(300);
    await eventually(() => p.log.has('Graceful shutdown timed out, cancelling in-flight handlers'), 5_000, 'the hard stop');
    m.releaseSends();
    await stopped;
    // Both handlers saw their signal aborted: nothing was sent after the stop.
    expect(ids.flatMap((id) => m.sendsOf(id))).toHaveLength(0);
  });
});
