// What a Slack user sees beyond Teleport's suite: thread replies, reactions, the requester's
// copy and outcome, injection safety, rate limits and actionable errors.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { PluginMetrics } from '@tap/core';
import { eventually, startTestPlugin, type TestPlugin } from '@tap/core/testing';
import { slack, type SlackSection } from '@tap/slack';
import { FakeSlack, flatten } from '../src/testing/fake-slack.js';

let sandbox: Sandbox;
let fake: FakeSlack;
const running: TestPlugin<SlackSection>[] = [];
const text = (m: { text: string; blocks: unknown[] }) => flatten(m.text, m.blocks);

beforeAll(async () => {
  sandbox = await startSandbox({ advancedWorkflows: true, thresholds: { approve: 2, deny: 2 }, proxyPublicAddr: 'teleport.example.com:443' });
  fake = await FakeSlack.start();
  fake.addChannel('access-requests');
  fake.addChannel('uninvited', { member: false });
  fake.addUser('alice@example.com');
  fake.addUser('lead@example.com');
});
afterAll(async () => {
  await fake.close();
  await sandbox.close();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

async function start(recipients: Record<string, string[]> = { '*': ['#access-requests'] }, target = fake, instanceId?: string, metrics?: PluginMetrics) {
  const p = await startTestPlugin<SlackSection>({
    sandbox,
    channel: slack,
    section: { token: target.token, apiUrl: target.url },
    recipients,
    user: 'slack-plugin',
    deps: { ...(instanceId ? { instanceId } : {}), ...(metrics ? { metrics } : {}) },
  });
  running.push(p);
  return p;
}

const rootIn = (channel: string, id: string) => fake.messagesTo(channel).find((m) => text(m).includes(id));
const dmsTo = (email: string, id: string) => fake.messagesTo(email).filter((m) => text(m).includes(id));

describe('a request in Slack', () => {
  it('shows the request, replies with each review in its thread, then marks the outcome with ✅', async () => {
    await start();
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'], reason: 'deploy the fix' });
    const root = await eventually(() => rootIn('#access-requests', id), 10_000, 'the request message');
    const shown = text(root);
    expect(shown).toContain('You have a new Role Request');
    expect(shown).toContain('alice@example.com');
    expect(shown).toContain('deploy the fix');
    expect(shown).toContain(`https://teleport.example.com/web/requests/${id}`);
    expect(shown).toMatch(/PENDING/);

    await sandbox.review(id, { author: 'lead@example.com', state: 'APPROVED', reason: 'looks fine' });
    await eventually(() => fake.repliesTo(root.ts).length === 1, 10_000, 'the review reply');
    expect(text(fake.repliesTo(root.ts)[0]!)).toContain('lead@example.com');

    await sandbox.review(id, { author: 'bob@example.com', state: 'APPROVED', reason: 'ok' });
    await eventually(() => root.reactions.includes('white_check_mark'), 10_000, 'the ✅ reaction');
    expect(text(root.edits.at(-1)!)).toMatch(/✅ APPROVED/);
    expect(fake.repliesTo(root.ts)).toHaveLength(2);
  });

  it('sends the requester a copy of the request and, once, the outcome — not every review', async () => {
    await start();
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'], reason: 'r' });
    await eventually(() => dmsTo('alice@example.com', id).length === 1, 10_000, 'the requester copy');
    await sandbox.review(id, { author: 'lead@example.com', state: 'DENIED', reason: 'no' });
    const root = await eventually(() => rootIn('#access-requests', id));
    await eventually(() => fake.repliesTo(root.ts).length === 1);
    await sandbox.deny(id, 'not now');
    await eventually(() => root.reactions.includes('x'), 10_000, 'the ❌ reaction');
    const notices = () => fake.messagesTo('alice@example.com').filter((m) => text(m).includes(id) && !text(m).includes('Role Request'));
    await eventually(() => notices().length === 1, 10_000, 'the outcome notice');
    expect(notices()).toHaveLength(1);
    expect(text(notices()[0]!)).toMatch(/denied/i);
  });

  it('resolves without reactions and one debug line when the token lacks reactions:write', async () => {
    const limited = await FakeSlack.start({ scopes: ['chat:write', 'users:read', 'users:read.email'] });
    try {
      limited.addChannel('access-requests');
      const p = await start({ '*': ['#access-requests'] }, limited);
      const id = await sandbox.createRequest({ user: 'nobody-in-slack@example.com', roles: ['editor'] });
      const root = await eventually(() => limited.messagesTo('#access-requests').find((m) => text(m).includes(id)));
      await sandbox.approve(id, 'ok');
      await eventually(() => root.edits.some((e) => /APPROVED/.test(text(e))), 10_000, 'the APPROVED edit');
      const id2 = await sandbox.createRequest({ user: 'nobody-in-slack@example.com', roles: ['editor'] });
      const root2 = await eventually(() => limited.messagesTo('#access-requests').find((m) => text(m).includes(id2)));
      await sandbox.approve(id2, 'ok');
      await eventually(() => root2.edits.some((e) => /APPROVED/.test(text(e))));
      expect(root.reactions).toStrictEqual([]);
      expect(p.log.find(/no reactions:write scope/)).toHaveLength(1);
      expect(limited.calls.filter((c) => c.method === 'reactions.add')).toHaveLength(1);
    } finally {
      await limited.close();
    }
  });
});

describe('high availability and restarts', () => {
  it('two replicas watching the same cluster post each request once', async () => {
    await start({ '*': ['#access-requests', 'lead@example.com'] }, fake, 'replica-a');
    await start({ '*': ['#access-requests', 'lead@example.com'] }, fake, 'replica-b');
    const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => sandbox.createRequest({ user: 'bob@example.com', roles: ['editor'], reason: `ha ${n}` })));
    for (const id of ids) {
      await eventually(() => rootIn('#access-requests', id) && dmsTo('lead@example.com', id).length > 0, 10_000, `the messages of ${id}`);
      await sandbox.approve(id, 'ok');
    }
    for (const id of ids) await eventually(() => rootIn('#access-requests', id)!.reactions.length > 0, 10_000, `the approval of ${id}`);
    for (const id of ids) {
      expect(fake.messagesTo('#access-requests').filter((m) => text(m).includes(id))).toHaveLength(1);
      expect(dmsTo('lead@example.com', id)).toHaveLength(1);
      expect(rootIn('#access-requests', id)!.reactions).toStrictEqual(['white_check_mark']);
    }
  });

  it('a restart while a post is in flight finishes it and never posts it again', async () => {
    const first = await start({ '*': ['#access-requests'] }, fake, 'restart-a');
    fake.postDelayMs = 300;
    try {
      const before = fake.calls.length;
      const id = await sandbox.createRequest({ user: 'bob@example.com', roles: ['editor'], reason: 'mid-flight' });
      await eventually(() => fake.calls.slice(before).some((c) => c.method === 'chat.postMessage'), 10_000, 'the post to start');
      await first.stop();
      running.splice(running.indexOf(first), 1);
      await start({ '*': ['#access-requests'] }, fake, 'restart-b');
      await sandbox.approve(id, 'ok');
      await eventually(() => rootIn('#access-requests', id)?.edits.length, 10_000, 'the approval edit');
      expect(fake.messagesTo('#access-requests').filter((m) => text(m).includes(id))).toHaveLength(1);
    } finally {
      fake.postDelayMs = 0;
    }
  });
});

describe('untrusted text', () => {
  it('cannot ping channels, mention users or inject links', async () => {
    await start();
    const reason = '<!channel> <!here|here> <!everyone> <@U0BOT0001> <#C1> <https://evil.example|click me> @here @channel & *bold*';
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'], reason });
    const root = await eventually(() => rootIn('#access-requests', id));
    const sent = JSON.stringify(root.blocks) + root.text;
    for (const forbidden of ['<!channel>', '<!here', '<!everyone>', '<@U0BOT0001>', '<#C1>', '<https://evil.example', '@here', '@channel']) {
      expect(sent).not.toContain(forbidden);
    }
    expect(text(root)).toContain('&lt;https://evil.example|click me&gt;');
    await sandbox.deny(id, '<!channel> denied');
    await eventually(() => root.edits.length > 0);
    expect(JSON.stringify(root.edits)).not.toContain('<!channel>');
  });
});

describe('Slack errors', () => {
  it('waits out a 429 Retry-After and 5xx answers, posting exactly once, and counts them in /metrics', async () => {
    const metrics = new PluginMetrics();
    const p = await start(undefined, fake, undefined, metrics);
    fake.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 1 });
    fake.failNext('chat.postMessage', { status: 503 });
    const id = await sandbox.createRequest({ user: 'bob@example.com', roles: ['editor'] });
    await eventually(() => rootIn('#access-requests', id), 15_000, 'the message after the retries');
    expect(fake.messagesTo('#access-requests').filter((m) => text(m).includes(id))).toHaveLength(1);
    expect(p.log.has('Slack rate limit hit, retrying after the hinted delay')).toBe(true);
    expect(metrics.rateLimitWaits.get({ channel: 'slack' })).toBe(1);
    expect(metrics.rateLimitWaitSeconds.get({ channel: 'slack' })).toBe(1);
    expect(metrics.retries.get({ channel: 'slack' })).toBe(1);
  });

  it('tells the operator to invite the bot when it is not in the channel, and still posts elsewhere', async () => {
    const p = await start({ '*': ['#uninvited', '#access-requests'] });
    const id = await sandbox.createRequest({ user: 'bob@example.com', roles: ['editor'] });
    await eventually(() => rootIn('#access-requests', id));
    const line = await eventually(() => p.log.lines.find((l) => JSON.stringify(l).includes('/invite @teleport')));
    expect(JSON.stringify(line)).toContain('#uninvited');
  });

  it('refuses to start with a revoked token', async () => {
    const bad = await FakeSlack.start({ token: 'xoxb-other' });
    try {
      await expect(
        startTestPlugin<SlackSection>({ sandbox, channel: slack, section: { token: 'xoxb-wrong', apiUrl: bad.url }, recipients: { '*': ['#x'] } }),
      ).rejects.toThrow(/invalid_auth/);
    } finally {
      await bad.close();
    }
  });
});
