import { pino } from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Router, dedupeById, isEmail, rawRecipientsFor, allRawRecipients, type AccessRequest } from '@tap/core';
import { RecordingMessenger } from '@tap/core/testing';

function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    }),
  );
  return { log, lines, messages: () => lines.map((l) => l.msg) };
}

const request = (over: Partial<AccessRequest> = {}): AccessRequest => ({
  id: 'r1',
  user: 'requester@example.com',
  roles: ['editor'],
  state: 'PENDING',
  requestReason: 'because',
  resolveReason: '',
  systemAnnotations: {},
  thresholds: [],
  reviews: [],
  suggestedReviewers: [],
  requestedResourceIds: [],
  loginHint: '',
  requestKind: 'UNDEFINED',
  ...over,
});

describe('rawRecipientsFor (Go TestRawRecipientsMapGetRecipients)', () => {
  it('uses the exact role and not the wildcard when the role matches', () => {
    expect(rawRecipientsFor({ dev: ['chanDev'], '*': ['chanA', 'chanB'] }, ['dev'])).toStrictEqual(['chanDev']);
  });
  it('falls back to "*" for a missing role', () => {
    expect(rawRecipientsFor({ '*': ['A', 'B'] }, ['dev'])).toStrictEqual(['A', 'B']);
  });
  it('falls back to "*" for a role with an empty list', () => {
    expect(rawRecipientsFor({ dev: [], '*': ['A'] }, ['dev'])).toStrictEqual(['A']);
  });
  it('unions roles and suggested reviewers, deduplicated', () => {
    expect(rawRecipientsFor({ dev: ['A', 'B'], '*': ['C'] }, ['dev'], ['A', 'B'])).toStrictEqual(['A', 'B']);
    expect(rawRecipientsFor({ dev: ['A'], ops: ['B', 'A'], '*': ['C'] }, ['dev', 'ops', 'other'], ['D'])).toStrictEqual(['A', 'B', 'C', 'D']);
  });
  it('gives nothing without a match or wildcard', () => {
    expect(rawRecipientsFor({ dev: ['A'] }, ['ops'])).toStrictEqual([]);
    expect(allRawRecipients({ dev: ['A'], '*': ['B', 'A'] })).toStrictEqual(['A', 'B']);
  });
});

describe('isEmail (Go lib.IsEmail = net/mail ParseAddress, address == input)', () => {
  it.each([
    'a@b.c',
    'alice@example.com',
    'first.last+tag@sub.example.co',
    "o'brien@example.com",
    'user@localhost',
    'üser@exämple.com',
    'x@[127.0.0.1]',
  ])('accepts %s', (s) => expect(isEmail(s)).toBe(true));
  it.each([
    '',
    'alice',
    'Alice <alice@example.com>',
    '<alice@example.com>',
    ' alice@example.com',
    'alice@example.com ',
    '"alice"@example.com',
    'alice@example.com (comment)',
    '.alice@example.com',
    'alice.@example.com',
    'al..ice@example.com',
    'alice@@example.com',
    'alice@example..com',
    'alice@',
    '@example.com',
    'a,b@example.com',
    'x@[not-an-ip]',
    '#channel',
    'team/channel',
  ])('rejects %j', (s) => expect(isEmail(s)).toBe(false));
});

describe('Router', () => {
  const signal = new AbortController().signal;

  it('routes by role and valid suggested reviewers, warning about the invalid ones', async () => {
    const { log, lines } = captureLog();
    const router = new Router({ recipients: { editor: ['#editors'], '*': ['#all'] }, messenger: new RecordingMessenger(), displayName: 'Test' });
    const got = await router.route(request({ suggestedReviewers: ['bob@example.com', 'not an email'] }), log, signal);
    expect(got.map((r) => r.name)).toStrictEqual(['#editors', 'bob@example.com']);
    const warn = lines.find((l) => l.msg === 'Failed to notify a suggested reviewer with an invalid email address');
    expect(warn?.reviewer).toBe('not an email');
  });

  it('skips recipients the channel cannot resolve, with the Go warning', async () => {
    const { log, messages } = captureLog();
    const messenger = new RecordingMessenger();
    messenger.unknownRecipients.add('#gone');
    const router = new Router({ recipients: { '*': ['#gone', '#ok'] }, messenger, displayName: 'Test' });
    expect((await router.route(request(), log, signal)).map((r) => r.name)).toStrictEqual(['#ok']);
    expect(messages()).toContain('Failure when fetching recipient, continuing anyway');
  });

  it('deduplicates on the resolved id', async () => {
    const { log } = captureLog();
    const messenger = new RecordingMessenger({ idOf: (n) => (n === 'ops@example.com' ? '#ops' : n) });
    const router = new Router({ recipients: { '*': ['#ops', 'ops@example.com'] }, messenger, displayName: 'Test' });
    expect((await router.route(request(), log, signal)).map((r) => r.id)).toStrictEqual(['#ops']);
    expect(dedupeById([{ name: 'a', id: '1', kind: 'user' }, { name: 'b', id: '1', kind: 'user' }])).toHaveLength(1);
  });

  it('adds the requester when the channel asks for it, and warns when it cannot be found', async () => {
    const { log, messages } = captureLog();
    const messenger = new RecordingMessenger();
    const router = new Router({ recipients: { '*': ['#all'] }, messenger, displayName: 'Slack', alsoSendToRequester: true });
    expect((await router.route(request(), log, signal)).map((r) => r.name)).toStrictEqual(['#all', 'requester@example.com']);
    messenger.unknownRecipients.add('requester@example.com');
    expect((await router.route(request(), log, signal)).map((r) => r.name)).toStrictEqual(['#all']);
    expect(messages()).toContain('Unable to find user requester@example.com in Slack, will not be able to notify.');
  });

  it('lets a recipient source override static routing entirely', async () => {
    const { log } = captureLog();
    const router = new Router({
      recipients: { '*': ['#all'] },
      messenger: new RecordingMessenger(),
      displayName: 'Test',
      sources: [{ recipientsFor: async (req) => (req.roles.includes('editor') ? ['#amr'] : []) }],
    });
    expect((await router.route(request({ suggestedReviewers: ['bob@example.com'] }), log, signal)).map((r) => r.name)).toStrictEqual(['#amr']);
    expect((await router.route(request({ roles: ['ops'] }), log, signal)).map((r) => r.name)).toStrictEqual(['#all']);
  });
});
