// The Slack-specific scenarios of Teleport's Slack suite (spec core-behavior §8.2) that the
// shared conformance suite does not cover: raw user IDs as recipients, Access Monitoring Rules,
// long reasons, and many requests at once.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '@tap/sandbox';
import { decodeRecord } from '@tap/core';
import { eventually, startTestPlugin, type TestPlugin } from '@tap/core/testing';
import { slack, type SlackSection } from '@tap/slack';
import { FakeSlack, flatten } from '../src/testing/fake-slack.js';

const REQUESTER = 'requester-oss@example.com';
let sandbox: Sandbox;
let fake: FakeSlack;
let reviewer1Id: string;
const running: TestPlugin<SlackSection>[] = [];
const text = (m: { text: string; blocks: unknown[] }) => flatten(m.text, m.blocks);

beforeAll(async () => {
  sandbox = await startSandbox({ advancedWorkflows: true, thresholds: { approve: 2, deny: 2 } });
  fake = await FakeSlack.start();
  fake.addUser(REQUESTER);
  reviewer1Id = fake.addUser('reviewer1@example.com');
  fake.addUser('reviewer2@example.com');
});
afterAll(async () => {
  await fake.close();
  await sandbox.close();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  for (const rule of ['test-slack-amr']) {
    try {
      sandbox.deleteRule(rule);
    } catch {
      // not created by this test
    }
  }
});

async function start(recipients: Record<string, string[]>) {
  const p = await startTestPlugin<SlackSection>({ sandbox, channel: slack, section: { token: fake.token, apiUrl: fake.url }, recipients, user: 'plugin' });
  running.push(p);
  return p;
}

/** Who got a root message about the request: Slack user ids of the direct messages. */
async function deliveredTo(id: string, count: number): Promise<string[]> {
  const record = await eventually(() => {
    const raw = sandbox.pluginData(id, 'slack');
    const r = raw ? decodeRecord(raw) : undefined;
    return r && !r.claim && r.messages.length >= count ? r : undefined;
  });
  const roots = fake.messages.filter((m) => !m.threadTs && text(m).includes(id));
  // What plugin data records is exactly what Slack received.
  expect(record.messages.map((m) => `${m.channelId}/${m.messageId}`).sort()).toStrictEqual(roots.map((m) => `${m.channel}/${m.ts}`).sort());
  return roots.map((m) => m.channel.replace(/^D/, 'U')).sort();
}

const idOf = (email: string) => fake.messagesTo(email)[0]?.channel.replace(/^D/, 'U') ?? (fake as unknown as { never: string }).never;

describe("Teleport's Slack suite", () => {
  it('TestMessagePosting: suggested reviewers and the requester, a long reason truncated', async () => {
    await start({ '*': [] as string[] });
    const reason = `because of ${'A'.repeat(4000)}`;
    const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'], reason, suggestedReviewers: ['reviewer1@example.com', 'reviewer2@example.com'] });
    const to = await deliveredTo(id, 3);
    expect(to).toHaveLength(3);
    const root = fake.messagesTo('reviewer1@example.com').find((m) => text(m).includes(id))!;
    expect(text(root)).toContain(`*User*: ${REQUESTER}`);
    expect(text(root)).toContain(`because of ${'A'.repeat(389)}\`\`\` (truncated)`);
    expect(text(root)).toContain('*Status*: ⏳ PENDING');
  });

  it('TestRecipientsConfig: an email and a raw Slack user ID both work', async () => {
    await start({ '*': ['reviewer2@example.com', reviewer1Id] });
    const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'], reason: 'because of' });
    const to = await deliveredTo(id, 3);
    expect(to).toStrictEqual([idOf(REQUESTER), reviewer1Id, idOf('reviewer2@example.com')].sort());
  });

  it('TestRecipientsFromAccessMonitoringRule, then after the rule stops matching', async () => {
    await start({ '*': ['reviewer2@example.com'] });
    sandbox.upsertRule({
      name: 'test-slack-amr',
      subjects: ['access_request'],
      condition: '!is_empty(access_request.spec.roles)',
      notification: { name: 'slack', recipients: [reviewer1Id, 'reviewer2@example.com'] },
    });
    // The rule reaches the plugin through the watch stream; retry until it is applied.
    const withRule = await eventually(async () => {
      const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'], reason: 'because of' });
      const to = await deliveredTo(id, 2);
      return to.includes(reviewer1Id) ? to : undefined;
    });
    expect(withRule).toHaveLength(3);

    sandbox.upsertRule({
      name: 'test-slack-amr',
      subjects: ['someOtherKind'],
      condition: '!is_empty(access_request.spec.roles)',
      notification: { name: 'slack', recipients: [reviewer1Id, 'reviewer2@example.com'] },
    });
    const without = await eventually(async () => {
      const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'], reason: 'because of' });
      const to = await deliveredTo(id, 2);
      return to.includes(reviewer1Id) ? undefined : to;
    });
    expect(without).toStrictEqual([idOf(REQUESTER), idOf('reviewer2@example.com')].sort());
  });

  it('TestDenial: a 4000-character resolution reason is truncated in the status', async () => {
    await start({ '*': ['reviewer1@example.com'] });
    const id = await sandbox.createRequest({ user: REQUESTER, roles: ['editor'], reason: 'because of' });
    await deliveredTo(id, 2);
    await sandbox.deny(id, `not okay ${'A'.repeat(4000)}`);
    const root = fake.messagesTo('reviewer1@example.com').find((m) => text(m).includes(id))!;
    await eventually(() => root.edits.length > 0);
    expect(text(root.edits[0]!)).toContain(`*Status*: ❌ DENIED\n*Resolution reason*: \`\`\`\nnot okay ${'A'.repeat(391)}\`\`\` (truncated)`);
  });

  it('TestRace: many requests with two suggested reviewers, no duplicates, every reply and update', async () => {
    await start({ '*': [] as string[] });
    const n = 8;
    const ids = await Promise.all(
      Array.from({ length: n }, () => sandbox.createRequest({ user: REQUESTER, roles: ['editor'], reason: 'race', suggestedReviewers: ['reviewer1@example.com', 'reviewer2@example.com'] })),
    );
    for (const id of ids) await deliveredTo(id, 3);
    await Promise.all(ids.map((id) => sandbox.review(id, { author: 'reviewer1@example.com', state: 'APPROVED', reason: 'ok' })));
    await Promise.all(ids.map((id) => sandbox.review(id, { author: 'reviewer2@example.com', state: 'APPROVED', reason: 'ok' })));
    for (const id of ids) {
      const roots = fake.messages.filter((m) => !m.threadTs && text(m).includes(id) && text(m).includes('Role Request'));
      expect(roots).toHaveLength(3);
      for (const root of roots) {
        await eventually(() => fake.repliesTo(root.ts).length === 2 && root.edits.some((e) => text(e).includes('✅ APPROVED')), 10_000, `replies and approval on ${root.ts}`);
      }
    }
  });
});
