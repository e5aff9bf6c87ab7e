/**
 * The shared acceptance scenarios every channel must pass (Teleport's per-plugin integration
 * suites, spec core-behavior §8), run against the sandbox Auth server and the channel's own
 * HTTP (or SMTP) fake. A channel calls it with a small adapter that reads what its fake
 * received:
 *
 * ```ts
 * describeChannelConformance(slack, {
 *   startFake: () => FakeSlack.start(),
 *   stopFake: (fake) => fake.close(),
 *   configSection: (fake) => ({ token: 'xoxb-test', apiUrl: fake.url }),
 *   recipients: { editor: ['#editors', 'alice@example.com'], '*': ['#fallback'] },
 *   messagesTo: (fake, name) => fake.messagesTo(name),
 *   updatesOf: (fake, id) => fake.updatesOf(id),
 *   repliesTo: (fake, id) => fake.repliesTo(id),
 * });
 * ```
 *
 * Every check polls the fake until it holds (no sleeps, no timing assertions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelDefinition, RecipientsMap, SentMessage } from '../channel.js';
import { channelMessageCodec } from '../plugin-data-codecs.js';
import { decodeRecord } from '../request-state.js';
import { type TestPlugin, eventually, startTestPlugin } from './plugin-harness.js';
import { type SandboxHandle, startSandbox } from './sandbox-handle.js';

/** One thing the fake received: a root message, an edit, a follow-up or a reply. */
export interface FakeMessage {
  /** The id the channel returned (what plugin data stores as the message id). */
  id: string;
  /** Everything a reader would see, flattened to text (JSON is fine). */
  text: string;
}

type Many<T> = T[] | Promise<T[]>;

/** The sandbox operations the scenarios use (see `@tap/sandbox`). */
export interface ConformanceSandbox extends SandboxHandle {
  approve(id: string, reason?: string): Promise<unknown>;
  deny(id: string, reason?: string): Promise<unknown>;
  expire(id: string): Promise<unknown>;
  pluginData(id: string, plugin: string): Promise<Record<string, string> | undefined>;
}

export interface ConformanceOptions<Section, Fake> {
  startFake(): Promise<Fake>;
  stopFake(fake: Fake): Promise<void>;
  /** The channel's parsed section, pointing at the fake. */
  configSection(fake: Fake): Section;
  /** `role_to_recipients`; the scenarios request the role `editor`, so give it (or `"*"`) recipients the fake accepts. */
  recipients: RecipientsMap;
  /** Root messages the fake received for a configured recipient name. */
  messagesTo(fake: Fake, recipient: string): Many<FakeMessage>;
  /** Edits of a message (email: follow-up messages in its thread). */
  updatesOf(fake: Fake, messageId: string): Many<FakeMessage>;
  /** Threaded review replies to a message; leave out when reviews only show in updates. */
  repliesTo?(fake: Fake, messageId: string): Many<FakeMessage>;
  /** Suggested reviewers (emails) the fake can deliver to; omit to skip that scenario. */
  suggestedReviewers?: string[];
  /** A recipient name the channel cannot resolve or deliver to; omit to skip that scenario. */
  unknownRecipient?: string;
  /** Whether the requester also gets the message (Slack); its name is `requester`. */
  requesterGetsMessage?: boolean;
  /** Sandbox users (defaults follow Teleport's suite: see below). */
  users?: {
    /** May request `editor` (default `requester@example.com`). */
    requester?: string;
    /** May request `editor` with an approval/denial threshold of 2 (default `requester-threshold@example.com`). */
    thresholdRequester?: string;
    /** Two reviewers of `editor` (default `reviewer1@example.com`, `reviewer2@example.com`). */
    reviewers?: [string, string];
  };
  /** Options for `startSandbox` (default: advanced workflows, approval and denial thresholds of 2). */
  sandboxOptions?: Record<string, unknown>;
  /** Per-check deadline in ms (default 10 000). */
  timeoutMs?: number;
}

export function describeChannelConformance<Section, Fake>(channel: ChannelDefinition<Section>, o: ConformanceOptions<Section, Fake>): void {
  const timeout = o.timeoutMs ?? 10_000;
  const requester = o.users?.requester ?? 'requester@example.com';
  const thresholdRequester = o.users?.thresholdRequester ?? 'requester-threshold@example.com';
  const [reviewer1, reviewer2] = o.users?.reviewers ?? ['reviewer1@example.com', 'reviewer2@example.com'];
  const routed = o.recipients.editor?.length ? o.recipients.editor : (o.recipients['*'] ?? []);
  const codec = channel.pluginData?.codec ?? channelMessageCodec;
  const layout = { keys: channel.pluginData?.keys ?? 'full', codec } as const;

  let sandbox: ConformanceSandbox;
  let fake: Fake;
  let running: TestPlugin<Section> | undefined;

  const start = (recipients: RecipientsMap = o.recipients) =>
    startTestPlugin<Section>({ sandbox, channel, section: o.configSection(fake), recipients, user: `${channel.name}-plugin` });
  const restart = async (recipients?: RecipientsMap) => {
    await running?.stop();
    running = undefined;
    running = await start(recipients);
  };
  const texts = (list: FakeMessage[]) => list.map((m) => m.text);
  const rootsFor = async (name: string, id: string) => (await o.messagesTo(fake, name)).filter((m) => m.text.includes(id));

  /** Waits until plugin data records `count` messages for the request, and returns them. */
  async function recorded(id: string, count: number): Promise<SentMessage[]> {
    return eventually(
      async () => {
        const raw = await sandbox.pluginData(id, channel.name);
        const record = raw ? decodeRecord(raw, layout) : undefined;
        return record && !record.claim && record.messages.length >= count ? record.messages : undefined;
      },
      timeout,
      `${count} message(s) recorded in plugin data of ${id}`,
    );
  }

  /** Each routed recipient got exactly one root message for the request. */
  async function expectOnePerRecipient(id: string, names: readonly string[]): Promise<void> {
    for (const name of names) {
      await eventually(async () => (await rootsFor(name, id)).length >= 1, timeout, `a message to ${name}`);
    }
    await recorded(id, names.length + (o.requesterGetsMessage ? 1 : 0));
    for (const name of names) expect(await rootsFor(name, id), `messages to ${name}`).toHaveLength(1);
  }

  async function expectUpdated(messages: SentMessage[], ...needles: string[]): Promise<void> {
    for (const m of messages) {
      await eventually(
        async () => texts(await o.updatesOf(fake, m.messageId)).some((t) => needles.every((n) => t.includes(n))),
        timeout,
        `an update of ${m.messageId} showing ${needles.join(' and ')}`,
      );
    }
  }

  async function expectReviewShown(messages: SentMessage[], reviewer: string): Promise<void> {
    for (const m of messages) {
      await eventually(
        async () => {
          const seen = o.repliesTo ? await o.repliesTo(fake, m.messageId) : await o.updatesOf(fake, m.messageId);
          return texts(seen).some((t) => t.includes(reviewer));
        },
        timeout,
        `the review of ${reviewer} on ${m.messageId}`,
      );
    }
  }

  describe(`${channel.displayName} channel conformance`, () => {
    beforeAll(async () => {
      sandbox = await startSandbox<ConformanceSandbox>(o.sandboxOptions ?? { advancedWorkflows: true, thresholds: { approve: 2, deny: 2 } });
      fake = await o.startFake();
      running = await start();
    }, 60_000);

    afterAll(async () => {
      await running?.stop();
      if (fake) await o.stopFake(fake);
      await sandbox?.close();
    }, 60_000);

    it('posts a new request once to each routed recipient', async () => {
      const id = await sandbox.createRequest({ user: requester, roles: ['editor'], reason: 'because of' });
      await expectOnePerRecipient(id, routed);
      if (o.requesterGetsMessage) expect(await rootsFor(requester, id)).toHaveLength(1);
    });

    it('shows the approval with its reason', async () => {
      const id = await sandbox.createRequest({ user: requester, roles: ['editor'], reason: 'because of' });
      const messages = await recorded(id, routed.length);
      await sandbox.approve(id, 'okay');
      await expectUpdated(messages, 'APPROVED', 'okay');
    });

    it('shows the denial with its reason', async () => {
      const id = await sandbox.createRequest({ user: requester, roles: ['editor'], reason: 'because of' });
      const messages = await recorded(id, routed.length);
      await sandbox.deny(id, 'not okay');
      await expectUpdated(messages, 'DENIED', 'not okay');
    });

    it('shows expiry when the request is deleted', async () => {
      const id = await sandbox.createRequest({ user: requester, roles: ['editor'], reason: 'because of' });
      const messages = await recorded(id, routed.length);
      await sandbox.expire(id);
      await expectUpdated(messages, 'EXPIRED');
    });

    it('shows each review while the request stays pending', async () => {
      const id = await sandbox.createRequest({ user: thresholdRequester, roles: ['editor'], reason: 'because of' });
      const messages = await recorded(id, routed.length);
      await sandbox.review(id, { author: reviewer1, state: 'APPROVED', reason: 'okay' });
      await expectReviewShown(messages, reviewer1);
      await sandbox.review(id, { author: reviewer2, state: 'DENIED', reason: 'not okay' });
      await expectReviewShown(messages, reviewer2);
    });

    it('resolves when the approval threshold is reached by reviews', async () => {
      const id = await sandbox.createRequest({ user: thresholdRequester, roles: ['editor'], reason: 'because of' });
      const messages = await recorded(id, routed.length);
      await sandbox.review(id, { author: reviewer1, state: 'APPROVED', reason: 'okay' });
      await expectReviewShown(messages, reviewer1);
      await sandbox.review(id, { author: reviewer2, state: 'APPROVED', reason: 'finally okay' });
      await expectUpdated(messages, 'APPROVED');
      await expectReviewShown(messages, reviewer2);
    });

    it('resolves when the denial threshold is reached by reviews', async () => {
      const id = await sandbox.createRequest({ user: thresholdRequester, roles: ['editor'], reason: 'because of' });
      const messages = await recorded(id, routed.length);
      await sandbox.review(id, { author: reviewer1, state: 'DENIED', reason: 'not okay' });
      await sandbox.review(id, { author: reviewer2, state: 'DENIED', reason: 'finally not okay' });
      await expectUpdated(messages, 'DENIED');
    });

    it.skipIf(!o.suggestedReviewers?.length)('also posts to suggested reviewers', async () => {
      const id = await sandbox.createRequest({ user: requester, roles: ['editor'], reason: 'because of', suggestedReviewers: o.suggestedReviewers });
      await expectOnePerRecipient(id, [...new Set([...routed, ...o.suggestedReviewers!])]);
    });

    it('does not post again after a restart, and still shows later reviews and the resolution', async () => {
      const id = await sandbox.createRequest({ user: thresholdRequester, roles: ['editor'], reason: 'because of' });
      const messages = await recorded(id, routed.length);
      await restart();
      await sandbox.review(id, { author: reviewer1, state: 'APPROVED', reason: 'okay' });
      await expectReviewShown(messages, reviewer1);
      await sandbox.approve(id, 'okay');
      await expectUpdated(messages, 'APPROVED');
      for (const name of routed) expect(await rootsFor(name, id), `messages to ${name}`).toHaveLength(1);
    });

    it('catches up after downtime: requests created or resolved while stopped', async () => {
      const announced = await sandbox.createRequest({ user: requester, roles: ['editor'], reason: 'before the downtime' });
      const messages = await recorded(announced, routed.length);
      await running?.stop();
      running = undefined;
      const created = await sandbox.createRequest({ user: requester, roles: ['editor'], reason: 'during the downtime' });
      await sandbox.approve(announced, 'okay');
      running = await start();
      await expectOnePerRecipient(created, routed);
      await expectUpdated(messages, 'APPROVED', 'okay');
    });

    it.skipIf(!o.unknownRecipient)('skips a recipient it cannot reach and posts to the others', async () => {
      const withUnknown = { ...o.recipients, editor: [...routed, o.unknownRecipient!] };
      await restart(withUnknown);
      try {
        const id = await sandbox.createRequest({ user: requester, roles: ['editor'], reason: 'because of' });
        await expectOnePerRecipient(id, routed);
        expect(running!.log.has(/Failure when fetching recipient|Failed to post message/)).toBe(true);
      } finally {
        await restart();
      }
    });
  });
}
