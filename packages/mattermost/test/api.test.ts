// The REST client and messenger against the Mattermost fake: auth, lookups, 429, 5xx and errors.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChannelApiError, type ChannelContext, RecipientNotFoundError, type RequestView } from '@tap/core';
import { CapturedLog } from '@tap/core/testing';
import { MattermostMessenger, type MattermostSection } from '@tap/mattermost';
import { FakeMattermost } from '../src/testing/fake-mattermost.js';

let fake: FakeMattermost;
const opened: MattermostMessenger[] = [];
const signal = () => AbortSignal.timeout(10_000);

beforeAll(async () => {
  fake = await FakeMattermost.start();
  fake.addUser('alice@example.com');
  fake.addChannel('ops/approvals');
  fake.addChannel('ops/uninvited', { member: false });
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((m) => m.close()));
});

function messenger(section: Partial<MattermostSection> = {}, options: ConstructorParameters<typeof MattermostMessenger>[2] = {}) {
  const log = new CapturedLog();
  const counts = { retried: 0, rateLimited: [] as number[] };
  const context: ChannelContext = {
    pluginName: 'mattermost',
    clusterName: 'example.com',
    log: log.logger,
    apiMetrics: { retried: () => void counts.retried++, rateLimited: (ms) => void counts.rateLimited.push(ms) },
  };
  const m = new MattermostMessenger({ url: fake.url, token: fake.token, recipients: [], ...section }, context, { backoffBaseMs: 5, env: {}, ...options });
  opened.push(m);
  return { m, log, counts };
}

const view: RequestView = {
  id: 'req-1', clusterName: 'example.com', user: 'alice@example.com', roles: ['editor'], resources: [], requestReason: 'r',
  kind: 'role', requestKind: 'SHORT_TERM', suggestedReviewers: [], status: 'PENDING', resolveReason: '', reviews: [],
};

describe('health and auth', () => {
  it('reports the bot and server, sending the token as a bearer token', async () => {
    const { m } = messenger();
    expect(await m.checkHealth(signal())).toStrictEqual({ summary: `bot @teleport (${fake.bot.id}) on ${fake.url}` });
    expect(fake.calls.at(-1)).toMatchObject({ method: 'GET', path: '/api/v4/users/me', authorization: 'BEARER' });
  });

  it('a wrong token fails at once with Mattermost\'s words and a hint, not retried', async () => {
    const { m, counts } = messenger({ token: 'wrong' });
    const before = fake.calls.length;
    const err = await m.checkHealth(signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelApiError);
    expect((err as ChannelApiError).message).toBe(
      'api error status_code=401, message="Invalid or expired session, please login again." (Mattermost refused the token: check [mattermost] token)',
    );
    expect((err as ChannelApiError).apiError).toBe('api.context.session_expired.app_error');
    expect((err as ChannelApiError).recoverable).toBe(false);
    expect(fake.calls.length - before).toBe(1);
    expect(counts.retried).toBe(0);
  });
});

describe('recipients', () => {
  it('an email becomes the bot\'s direct channel with that user; a team/channel its channel', async () => {
    const { m } = messenger();
    const dm = await m.resolveRecipient('alice@example.com', signal());
    expect(dm.kind).toBe('email');
    const channel = await m.resolveRecipient('ops/approvals', signal());
    expect(channel.kind).toBe('channel');
    await m.send(dm, view, signal());
    await m.send(channel, view, signal());
    expect(fake.postsIn('alice@example.com').map((p) => p.channelId)).toStrictEqual([dm.id]);
    expect(fake.postsIn('ops/approvals').map((p) => p.channelId)).toStrictEqual([channel.id]);
  });

  it('revalidates lookups by ETag (304) instead of downloading them again', async () => {
    const { m } = messenger();
    await m.resolveRecipient('alice@example.com', signal());
    await m.resolveRecipient('alice@example.com', signal());
    const lookups = fake.calls.filter((c) => c.path === '/api/v4/users/email/alice%40example.com').slice(-2);
    expect(lookups.map((c) => c.status)).toStrictEqual([200, 304]);
  });

  it('unknown users and channels are "not found" with Go\'s lookup words and Mattermost\'s message', async () => {
    const { m } = messenger();
    const user = await m.resolveRecipient('ghost@example.com', signal()).catch((e: unknown) => e);
    expect(user).toBeInstanceOf(RecipientNotFoundError);
    expect((user as Error).message).toBe(
      'Failed to lookup direct channel info for "ghost@example.com": api error status_code=404, message="Unable to find the user." (no Mattermost account has this email)',
    );
    const channel = await m.resolveRecipient('ops/Town Square', signal()).catch((e: unknown) => e);
    expect(channel).toBeInstanceOf(RecipientNotFoundError);
    expect((channel as Error).message).toMatch(/^Failed to lookup channel info for "ops\/Town Square": api error status_code=404, message="Unable to find the existing channel." \(team and channel are the names in the channel URL/);
    const team = await m.resolveRecipient('nope/approvals', signal()).catch((e: unknown) => e);
    expect((team as Error).message).toContain('message="Unable to find the existing team."');
  });

  it('refuses anything else with Go\'s text', async () => {
    const { m } = messenger();
    await expect(m.resolveRecipient('fallback', signal())).rejects.toThrow('Recipient must be either a user email or a channel in the format "team/channel" but got "fallback"');
    await expect(m.resolveRecipient('a/b/c', signal())).rejects.toBeInstanceOf(RecipientNotFoundError);
  });
});

describe('posting errors', () => {
  it('tells the operator to invite the bot into a channel it is not a member of', async () => {
    const { m } = messenger();
    const to = await m.resolveRecipient('ops/uninvited', signal());
    await expect(m.send(to, view, signal())).rejects.toThrow(
      'api error status_code=403, message="You do not have the appropriate permissions.": the bot cannot post to "ops/uninvited"; run /invite @teleport in that channel',
    );
  });

  it('says so when the post to update is gone', async () => {
    const { m } = messenger();
    await expect(m.update({ channelId: 'c', messageId: 'gone' }, view, 'resolution', signal())).rejects.toThrow(
      'cannot find post gone in channel c (deleted?): api error status_code=404, message="Unable to get the post."',
    );
  });
});

describe('rate limits and server errors', () => {
  it('waits out a 429 Retry-After and posts exactly once', async () => {
    const { m, log, counts } = messenger();
    const to = await m.resolveRecipient('ops/approvals', signal());
    const before = fake.postsIn('ops/approvals').length;
    fake.inject429({ retryAfterSeconds: 1, match: 'POST /api/v4/posts' });
    await m.send(to, view, signal());
    expect(fake.postsIn('ops/approvals')).toHaveLength(before + 1);
    expect(counts.rateLimited).toStrictEqual([1000]);
    expect(log.find('Mattermost rate limit hit, retrying after the hinted delay')).toHaveLength(1);
  });

  it('fails at once, recoverable, when the hint is longer than it may wait', async () => {
    const { m, counts } = messenger({}, { maxRetryAfterMs: 2_000 });
    fake.inject429({ retryAfterSeconds: 60, match: 'GET /api/v4/users/me' });
    const err = (await m.checkHealth(signal()).catch((e: unknown) => e)) as ChannelApiError;
    expect(err.status).toBe(429);
    expect(err.recoverable).toBe(true);
    expect(err.message).toBe('api error status_code=429, message="limit exceeded"');
    expect(counts.rateLimited).toStrictEqual([]);
  });

  it('retries 5xx with backoff and then succeeds', async () => {
    const { m, counts } = messenger();
    const to = await m.resolveRecipient('ops/approvals', signal());
    const before = fake.postsIn('ops/approvals').length;
    fake.inject5xx({ times: 2, status: 502, match: 'POST /api/v4/posts' });
    await m.send(to, view, signal());
    expect(fake.postsIn('ops/approvals')).toHaveLength(before + 1);
    expect(counts.retried).toBe(2);
  });

  it('gives up after the last attempt with the server\'s words', async () => {
    const { m, counts } = messenger({}, { maxAttempts: 3 });
    fake.inject5xx({ times: 3, match: 'GET /api/v4/users/me' });
    const err = (await m.checkHealth(signal()).catch((e: unknown) => e)) as ChannelApiError;
    expect(err.message).toBe('api error status_code=503, message="An internal server error occurred."');
    expect(err.recoverable).toBe(true);
    expect(counts.retried).toBe(2);
  });

  it('retries a lookup when the server cannot be reached, then reports it', async () => {
    const closed = await FakeMattermost.start();
    const url = closed.url;
    await closed.close();
    const { m, counts } = messenger({ url }, { maxAttempts: 2 });
    await expect(m.checkHealth(signal())).rejects.toThrow(`cannot reach Mattermost at ${url}: ECONNREFUSED`);
    expect(counts.retried).toBe(1);
  });
});

describe('the fake\'s transcript (used by the demo)', () => {
  it('tells what a reader saw: the post, its thread and its edits', async () => {
    const own = await FakeMattermost.start();
    try {
      own.addChannel('ops/approvals');
      own.addUser('lead@example.com');
      const log = new CapturedLog();
      const m = new MattermostMessenger({ url: own.url, token: own.token, recipients: [] }, { pluginName: 'mattermost', clusterName: 'c', log: log.logger }, { env: {} });
      opened.push(m);
      const sent = await m.send(await m.resolveRecipient('ops/approvals', signal()), view, signal());
      await m.send(await m.resolveRecipient('lead@example.com', signal()), view, signal());
      await m.replyWithReview(sent, { author: 'bob', proposedState: 'APPROVED', reason: 'ok', created: new Date(0) }, view, signal());
      await m.update(sent, { ...view, status: 'APPROVED' }, 'resolution', signal());
      expect(own.transcript()).toBe(
        [
          'ops/approvals posted: *You have new pending request to review!* (user alice@example.com)',
          'ops/approvals   ↳ thread reply: bob reviewed the request at 01 Jan 70 00:00 UTC. Resolution: ✅ APPROVED. Reason: ``` ok```.',
          'ops/approvals   edited (1): **Status**: ✅ APPROVED',
          '@lead (DM) posted: *You have new pending request to review!* (user alice@example.com)',
        ].join('\n'),
      );
    } finally {
      await own.close();
    }
  });
});
