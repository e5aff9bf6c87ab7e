// What a Discord user sees: review embeds, direct messages, injection safety, Discord's limits
// and rate limits — against the sandbox and the Discord fake.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { PluginMetrics } from '@tap/core';
import { eventually, startTestPlugin, type TestPlugin } from '@tap/core/testing';
import { discord, type DiscordSection, requestMessage } from '@tap/discord';
import { FakeDiscord } from '../src/testing/fake-discord.js';

let sandbox: Sandbox;
let fake: FakeDiscord;
let lead: string;
const running: TestPlugin<DiscordSection>[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ advancedWorkflows: true, thresholds: { approve: 2, deny: 2 }, proxyPublicAddr: 'teleport.example.com:443' });
  fake = await FakeDiscord.start();
  fake.addChannel('access-requests', { id: '1001' });
  fake.addChannel('hidden', { id: '1002', access: false });
  fake.addChannel('reviewers', { id: '1003' });
  lead = fake.addUser('lead');
});
afterAll(async () => {
  await fake.close();
  await sandbox.close();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

async function start(recipients: Record<string, string[]> = { '*': ['1001'] }, target = fake, metrics?: PluginMetrics) {
  const p = await startTestPlugin<DiscordSection>({ sandbox, channel: discord, section: { token: target.token, apiUrl: target.url }, recipients, user: 'discord-plugin', deps: metrics ? { metrics } : undefined });
  running.push(p);
  return p;
}

const messageOf = (channel: string, id: string) => fake.messagesIn(channel).find((m) => m.content.includes(id));

describe('a request in Discord', () => {
  it('posts the request, adds each review as an embed, then shows the outcome (TestReviewUpdates, TestApprovalByReview)', async () => {
    await start();
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'], reason: 'deploy the fix' });
    const message = await eventually(() => messageOf('1001', id), 10_000, 'the request message');
    expect(message.content.split('\n')[0]).toBe('You have a new Role Request:');
    expect(message.content).toContain('*Status*: ⏳ PENDING');
    expect(message.content).toContain(`https://teleport.example.com/web/requests/${id}`);
    expect(message.allowedMentions).toStrictEqual({ parse: [] });

    await sandbox.review(id, { author: 'reviewer1@example.com', state: 'APPROVED', reason: 'okay' });
    await eventually(() => message.embeds.length === 1, 10_000, 'the first review embed');
    expect(message.embeds[0]).toMatchObject({ author: { name: 'reviewer1@example.com' }, color: 0x238823, description: 'Reason: ```\nokay```' });
    expect(message.embeds[0]!.title).toMatch(/^Approved request at \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}$/);
    expect(message.content).toContain('⏳ PENDING');

    await sandbox.review(id, { author: 'reviewer2@example.com', state: 'APPROVED', reason: 'finally okay' });
    await eventually(() => message.content.includes('✅ APPROVED'), 10_000, 'the approval');
    expect(message.embeds.map((e) => e.author?.name)).toStrictEqual(['reviewer1@example.com', 'reviewer2@example.com']);
    expect(fake.messagesIn('1001').filter((m) => m.content.includes(id))).toHaveLength(1);
  });

  it('sends a direct message to user:<id>, and to a bare ID that is a user rather than a channel', async () => {
    await start({ '*': [`user:${lead}`] });
    const first = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await eventually(() => fake.messagesIn(lead).some((m) => m.content.includes(first)), 10_000, 'the DM via user:<id>');
    await Promise.all(running.splice(0).map((p) => p.stop()));
    await start({ '*': [lead] });
    const second = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await eventually(() => fake.messagesIn(lead).some((m) => m.content.includes(second)), 10_000, 'the DM via a bare user ID');
  });

  it('skips an email, an unknown ID and a channel it cannot see, and still posts to the others', async () => {
    const p = await start({ '*': ['nobody@example.com', '4242', '1002', '1001'] });
    const id = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
    await eventually(() => messageOf('1001', id));
    const failures = await eventually(() => {
      const lines = p.log.find('Failure when fetching recipient, continuing anyway');
      return lines.length >= 3 ? lines.map((l) => JSON.stringify(l)) : undefined;
    });
    expect(failures.join('\n')).toContain('Discord cannot find users by email');
    expect(failures.join('\n')).toContain('no Discord channel or user with this ID');
    expect(failures.join('\n')).toContain('allow \\"View Channel\\" and \\"Send Messages\\"');
  });
});

describe('Access Monitoring Rules', () => {
  it('a rule for discord overrides role_to_recipients (TestMessagePostingWithAMR)', async () => {
    await start({ editor: ['1001'], '*': ['1001'] });
    sandbox.upsertRule({ name: 'discord-amr', subjects: ['access_request'], condition: '!is_empty(access_request.spec.roles)', notification: { name: 'discord', recipients: ['1001', '1003'] } });
    try {
      // The rule reaches the plugin through the watch stream; retry until it applies.
      const id = await eventually(async () => {
        const created = await sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'] });
        await eventually(() => messageOf('1001', created));
        return (await eventually(() => messageOf('1003', created), 2_000).catch(() => undefined)) ? created : undefined;
      });
      expect(fake.messagesIn('1001').filter((m) => m.content.includes(id))).toHaveLength(1);
      expect(fake.messagesIn('1003').filter((m) => m.content.includes(id))).toHaveLength(1);
    } finally {
      sandbox.deleteRule('discord-amr');
    }
  });
});

describe('untrusted text and limits', () => {
  it('cannot mention, link or format, and every body forbids mentions', async () => {
    await start();
    const user = '@everyone <@123> <#456> <@&789> [click](https://evil.example) **bold**';
    sandbox.addUser({ name: user, roles: [], traits: {} });
    const id = await sandbox.createRequest({ user, roles: ['editor'], reason: '@here <@123> ``` [x](https://evil.example)' });
    const message = await eventually(() => messageOf('1001', id));
    const userLine = message.content.split('\n').find((l) => l.startsWith('*User*'))!;
    expect(userLine).not.toMatch(/(^|[^\\])<@|(^|[^\\])\[click\]|\*\*bold|@everyone/);
    expect(userLine).toContain('\\<@123\\>');
    expect(message.content).not.toMatch(/@here/);
    expect(message.allowedMentions).toStrictEqual({ parse: [] });
  });

  it('keeps content within 2000 characters and at most 10 review embeds', () => {
    const view = {
      id: 'x',
      clusterName: 'c',
      user: 'u',
      roles: Array.from({ length: 400 }, (_, i) => `role-${i}-${'r'.repeat(20)}`),
      resources: [],
      // One line per role with its logins: far beyond 2000 characters.
      loginsByRole: Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`role-${i}-${'r'.repeat(20)}`, ['root']])),
      requestReason: 'A'.repeat(4000),
      kind: 'role' as const,
      requestKind: 'SHORT_TERM' as never,
      suggestedReviewers: [],
      status: 'PENDING' as const,
      resolveReason: '',
      reviews: Array.from({ length: 14 }, (_, i) => ({ author: `reviewer${i}`, proposedState: 'APPROVED', reason: 'B'.repeat(1000) })),
    };
    const body = requestMessage(view);
    expect(body.content.length).toBeLessThanOrEqual(2000);
    expect(body.content.endsWith(' (truncated)')).toBe(true);
    expect(body.embeds!.length).toBeLessThanOrEqual(10);
    expect(body.embeds!.at(-1)!.author.name).toBe('reviewer13');
    const total = body.embeds!.reduce((n, e) => n + (e.title?.length ?? 0) + (e.description?.length ?? 0) + e.author.name.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
  });
});

describe('rate limits', () => {
  it('waits out a global 429 and per-route buckets without losing a message, and counts the waits', async () => {
    const limited = await FakeDiscord.start({ bucketSize: 2, bucketResetAfter: 0.3 });
    try {
      limited.addChannel('access-requests', { id: '1001' });
      const metrics = new PluginMetrics();
      const p = await start({ '*': ['1001'] }, limited, metrics);
      limited.inject429({ retryAfter: 0.2, global: true });
      const ids = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => sandbox.createRequest({ user: 'alice@example.com', roles: ['editor'], reason: `burst ${n}` })));
      for (const id of ids) await eventually(() => limited.messagesIn('1001').some((m) => m.content.includes(id)), 15_000, `the message of ${id}`);
      expect(limited.messagesIn('1001')).toHaveLength(6);
      expect(p.log.has('Discord rate limit hit, retrying after the hinted delay')).toBe(true);
      expect(metrics.rateLimitWaits.get({ channel: 'discord' })).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
