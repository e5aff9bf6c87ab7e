// What a Mattermost user sees, end to end (sandbox Auth server → engine → Mattermost fake):
// Teleport's Mattermost suite plus thread comments, the requester's outcome, injection safety,
// throttling and the legacy plugin data of the old standalone plugin.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { decodeRecord, PluginMetrics } from '@tap/core';
import { CapturedLog, eventually, startTestPlugin, type TestPlugin } from '@tap/core/testing';
import { mattermost, MattermostMessenger, mattermostMessageCodec, type MattermostSection } from '@tap/mattermost';
import { FakeMattermost } from '../src/testing/fake-mattermost.js';

const R1 = 'reviewer1@example.com';
const R2 = 'reviewer2@example.com';
const REQUESTER = 'requester@example.com';
let sandbox: Sandbox;
let fake: FakeMattermost;
const running: TestPlugin<MattermostSection>[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ advancedWorkflows: true, thresholds: { approve: 2, deny: 2 }, proxyPublicAddr: 'teleport.example.com:443' });
  fake = await FakeMattermost.start();
  for (const email of [R1, R2, REQUESTER]) fake.addUser(email);
  fake.addChannel('team-llama/channel-llama');
});
afterAll(async () => {
  await fake.close();
  await sandbox.close();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

async function start(recipients: Record<string, string[]>, metrics?: PluginMetrics, instanceId?: string) {
  const p = await startTestPlugin<MattermostSection>({
    sandbox,
    channel: mattermost,
    section: { url: fake.url, token: fake.token, recipients: [] },
    recipients,
    user: 'mattermost-plugin',
    deps: { ...(metrics ? { metrics } : {}), ...(instanceId ? { instanceId } : {}) },
  });
  running.push(p);
  return p;
}

const field = (text: string, label: string) => new RegExp(`^\\*\\*${label}\\*\\*: +(.+)$`, 'm').exec(text)?.[1];
const rootsAbout = (id: string) => fake.posts.filter((p) => !p.rootId && p.message.includes(id));
const rootIn = (ref: string, id: string) => fake.postsIn(ref).find((p) => p.message.includes(id));
const lastEdit = (postId: string) => fake.post(postId)?.edits.at(-1) ?? '';
const noticesTo = (email: string, id: string) => fake.postsIn(email).filter((p) => p.message.startsWith(`Request with ID "${id}"`));

describe('posting (TestMattermostMessagePosting, TestRecipientsConfig)', () => {
  it('posts to the role\'s recipients and the suggested reviewer, not the "*" fallback, and records exactly those posts', async () => {
    await start({ editor: [R1], '*': ['fallback'] });
    const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'], reason: `because of ${'A'.repeat(4000)}`, suggestedReviewers: [R2] });
    const record = await eventually(() => {
      const raw = sandbox.pluginData(id, 'mattermost');
      const r = raw ? decodeRecord(raw, { keys: 'full', codec: mattermostMessageCodec }) : undefined;
      return r && !r.claim && r.messages.length === 2 ? r : undefined;
    }, 10_000, 'two posts recorded');
    const posts = rootsAbout(id);
    expect(posts.map((p) => `${p.channelId}/${p.id}`).sort()).toStrictEqual(record.messages.map((m) => `${m.channelId}/${m.messageId}`).sort());
    expect(fake.postsIn(R1).filter((p) => p.message.includes(id))).toHaveLength(1);
    expect(fake.postsIn(R2).filter((p) => p.message.includes(id))).toHaveLength(1);
    const text = posts[0]!.message;
    expect(field(text, 'Request ID')).toBe(id);
    expect(field(text, 'User')).toBe(REQUESTER);
    expect(field(text, 'Status')).toBe('⏳ PENDING');
    expect(text).toContain(`**Reason**: \`\`\`\nbecause of ${'A'.repeat(489)}\`\`\` (truncated)`);
    expect(field(text, 'Link')).toBe(`[https://teleport.example.com/web/requests/${id}](https://teleport.example.com/web/requests/${id})`);
  });

  it('posts to a team channel and a direct channel', async () => {
    await start({ '*': ['team-llama/channel-llama', R1] });
    const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'] });
    await eventually(() => rootIn('team-llama/channel-llama', id) && rootIn(R1, id), 10_000, 'both posts');
    expect(rootsAbout(id)).toHaveLength(2);
  });

  it('skips a request with no recipient and no suggested reviewer, saying so in the log', async () => {
    const p = await start({});
    const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'] });
    const line = await eventually(() => p.log.lines.find((l) => l.msg === 'No channel to post' && JSON.stringify(l).includes(id)), 10_000, 'the "No channel to post" line');
    expect(line.level).toBe(40);
    expect(rootsAbout(id)).toHaveLength(0);
  });
});

describe('reviews and resolution', () => {
  it('comments each review in the post\'s thread, then shows the approval and tells the requester once', async () => {
    await start({ '*': ['team-llama/channel-llama'] });
    const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'], reason: 'deploy' });
    const root = await eventually(() => rootIn('team-llama/channel-llama', id), 10_000, 'the post');

    await sandbox.review(id, { author: R1, state: 'APPROVED', reason: 'okay' });
    const first = await eventually(() => fake.repliesTo(root.id)[0], 10_000, 'the first comment');
    expect(first.channelId).toBe(root.channelId);
    expect(first.message).toMatch(new RegExp(`^${R1} reviewed the request at \\d\\d \\w{3} \\d\\d \\d\\d:\\d\\d UTC\\.\\nResolution: ✅ APPROVED\\.\\nReason: \`\`\`\\nokay\`\`\`\\.$`));
    await eventually(() => root.edits.length >= 1, 10_000, 'the pending re-render');
    expect(field(lastEdit(root.id), 'Status')).toBe('⏳ PENDING');
    expect(noticesTo(REQUESTER, id)).toHaveLength(0);

    await sandbox.review(id, { author: R2, state: 'APPROVED', reason: 'finally okay' });
    await eventually(() => field(lastEdit(root.id), 'Status') === '✅ APPROVED', 10_000, 'the approval');
    expect(lastEdit(root.id)).toContain('**Resolution reason**: ```\nfinally okay```');
    expect(lastEdit(root.id)).not.toContain('You have new pending request');
    expect(fake.repliesTo(root.id).map((c) => c.message.split(' ')[0])).toStrictEqual([R1, R2]);
    const notice = await eventually(() => noticesTo(REQUESTER, id)[0], 10_000, 'the requester notice');
    expect(notice.message).toContain('has been updated: *APPROVED*');
    expect(noticesTo(REQUESTER, id)).toHaveLength(1);
  });

  it('shows a denial with its (truncated) reason and the requester hears it once', async () => {
    await start({ '*': [R1] });
    const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'] });
    const root = await eventually(() => rootIn(R1, id), 10_000, 'the post');
    await sandbox.deny(id, `not okay ${'A'.repeat(4000)}`);
    await eventually(() => field(lastEdit(root.id), 'Status') === '❌ DENIED', 10_000, 'the denial');
    expect(lastEdit(root.id)).toContain(`**Resolution reason**: \`\`\`\nnot okay ${'A'.repeat(491)}\`\`\` (truncated)`);
    await eventually(() => noticesTo(REQUESTER, id).length === 1, 10_000, 'the notice');
    expect(noticesTo(REQUESTER, id)[0]!.message).toContain('*DENIED*');
  });

  it('marks a deleted request expired, without a notice to the requester', async () => {
    await start({ '*': ['team-llama/channel-llama'] });
    const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'] });
    const root = await eventually(() => rootIn('team-llama/channel-llama', id), 10_000, 'the post');
    await sandbox.expire(id);
    await eventually(() => field(lastEdit(root.id), 'Status') === '⌛ EXPIRED', 10_000, 'the expiry');
    expect(root.edits).toHaveLength(1);
  });

  it('logs, and carries on, when the requester is not a Mattermost email', async () => {
    const p = await start({ '*': ['team-llama/channel-llama'] });
    const id = await sandbox.createRequest({ user: 'bob', roles: ['editor'] });
    const root = await eventually(() => rootIn('team-llama/channel-llama', id), 10_000, 'the post');
    await sandbox.approve(id, 'ok');
    await eventually(() => root.edits.length === 1, 10_000, 'the approval');
    const line = await eventually(() => p.log.find('Failed to notify the requester')[0], 10_000, 'the warning');
    expect(JSON.stringify(line)).toContain('user was not found, cant directly notify');
  });
});

describe('untrusted text', () => {
  it('a reason or user name cannot ping, link or forge fields', async () => {
    await start({ '*': ['team-llama/channel-llama'] });
    const user = 'mallory @here [x](https://evil.example)';
    const id = await sandbox.createRequest({ user, roles: ['editor'], reason: '@channel @all ```\n**Status**: ✅ APPROVED [click](https://evil.example)' });
    const root = await eventually(() => rootIn('team-llama/channel-llama', id), 10_000, 'the post');
    // The reason is shown verbatim inside a code block (never rendered); everything outside it is escaped.
    const fence = /\*\*Reason\*\*: ```\n([\s\S]*?)```\n/.exec(root.message)!;
    const outside = root.message.replace(fence[0], '');
    for (const forbidden of ['@here', '@channel', '@all', '](https://evil', 'https://evil']) expect(outside).not.toContain(forbidden);
    expect(outside.match(/^\*\*Status\*\*/gm)).toHaveLength(1);
    expect(fence[1]).toContain('[click](https://evil.example)');
    for (const mention of ['@channel', '@all']) expect(fence[1]).not.toContain(mention);
    expect(fence[1]).not.toMatch(/```/);
    await sandbox.deny(id, '@channel denied');
    await eventually(() => root.edits.length > 0, 10_000, 'the denial');
    expect(lastEdit(root.id)).not.toContain('@channel');
  });
});

describe('high availability and restarts', () => {
  it('two replicas watching the same cluster post each request once', async () => {
    const recipients = { '*': ['team-llama/channel-llama', R1] };
    await start(recipients, undefined, 'replica-a');
    await start(recipients, undefined, 'replica-b');
    const ids = await Promise.all([1, 2, 3, 4].map((n) => sandbox.createRequest({ user: 'bob', roles: ['editor'], reason: `ha ${n}` })));
    for (const id of ids) {
      await eventually(() => rootIn('team-llama/channel-llama', id) && rootIn(R1, id), 10_000, `the posts of ${id}`);
      await sandbox.approve(id, 'ok');
    }
    for (const id of ids) await eventually(() => rootsAbout(id).every((p) => p.edits.length > 0), 10_000, `the approval of ${id}`);
    for (const id of ids) {
      expect(rootsAbout(id)).toHaveLength(2);
      for (const post of rootsAbout(id)) expect(post.edits).toHaveLength(1);
    }
  });

  it('a restart while a post is in flight finishes it and never posts it again', async () => {
    const first = await start({ '*': ['team-llama/channel-llama'] }, undefined, 'restart-a');
    fake.postDelayMs = 300;
    try {
      const before = fake.calls.length;
      const id = await sandbox.createRequest({ user: 'bob', roles: ['editor'], reason: 'mid-flight' });
      await eventually(() => fake.calls.slice(before).some((c) => c.method === 'POST' && c.path === '/api/v4/posts'), 10_000, 'the post to start');
      await first.stop();
      running.splice(running.indexOf(first), 1);
      await start({ '*': ['team-llama/channel-llama'] }, undefined, 'restart-b');
      await sandbox.approve(id, 'ok');
      await eventually(() => rootIn('team-llama/channel-llama', id)?.edits.length, 10_000, 'the approval edit');
      expect(rootsAbout(id)).toHaveLength(1);
    } finally {
      fake.postDelayMs = 0;
    }
  });
});

describe('throttling and history', () => {
  it('waits out a 429 and a 5xx, posts once, and counts them in /metrics', async () => {
    const metrics = new PluginMetrics();
    const p = await start({ '*': ['team-llama/channel-llama'] }, metrics);
    fake.inject429({ retryAfterSeconds: 1, match: 'POST /api/v4/posts' });
    fake.inject5xx({ match: 'POST /api/v4/posts' });
    const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'] });
    await eventually(() => rootIn('team-llama/channel-llama', id), 15_000, 'the post after the retries');
    expect(rootsAbout(id)).toHaveLength(1);
    expect(p.log.has('Mattermost rate limit hit, retrying after the hinted delay')).toBe(true);
    expect(metrics.rateLimitWaits.get({ channel: 'mattermost' })).toBe(1);
    expect(metrics.retries.get({ channel: 'mattermost' })).toBe(1);
  });

  it('updates a post recorded by the old standalone plugin (channel_id + post_id)', async () => {
    const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'] });
    const log = new CapturedLog();
    const legacy = new MattermostMessenger({ url: fake.url, token: fake.token, recipients: [] }, { pluginName: 'mattermost', clusterName: 'sandbox.test', log: log.logger });
    const signal = AbortSignal.timeout(5_000);
    const to = await legacy.resolveRecipient('team-llama/channel-llama', signal);
    const old = await legacy.send(to, { id, clusterName: 'sandbox.test', user: REQUESTER, roles: ['editor'], resources: [], requestReason: '', kind: 'role', requestKind: 'SHORT_TERM', suggestedReviewers: [], status: 'PENDING', resolveReason: '', reviews: [] }, signal);
    await legacy.close();
    sandbox.setPluginData(id, 'mattermost', { user: REQUESTER, roles: 'editor', channel_id: old.channelId, post_id: old.messageId });
    await start({ '*': ['team-llama/channel-llama'] });
    await sandbox.approve(id, 'okay');
    await eventually(() => field(lastEdit(old.messageId), 'Status') === '✅ APPROVED', 10_000, 'the legacy post updated');
    expect(fake.postsIn('team-llama/channel-llama').filter((p) => p.message.includes(id))).toHaveLength(1);
  });
});
