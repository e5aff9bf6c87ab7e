import { describe, expect, it } from 'vitest';
import {
  channelMessageCodec,
  decodeRequestData,
  decodeRecord,
  encodedMessageCodec,
  encodeRequestData,
  encodeRecord,
  emptyRecord,
  goJson,
  threadCodec,
  type RequestRecord,
} from '@tap/core';

// Vectors from Teleport's accessrequest/plugindata_test.go, msteams and email plugindata tests.
const sample = (): RequestRecord => ({
  request: {
    user: 'user-foo',
    roles: ['role-foo', 'role-bar'],
    resources: ['cluster-a/node/foo', 'cluster-a/node/bar'],
    requestReason: 'foo reason',
    reviewsCount: 3,
    resolution: 'APPROVED',
    resolveReason: 'foo ok',
    maxDuration: new Date('2006-01-02T15:04:05Z'),
  },
  messages: [
    { channelId: 'CHANNEL1', messageId: '0000001' },
    { channelId: 'CHANNEL2', messageId: '0000002' },
  ],
});

const goSampleMap = {
  user: 'user-foo',
  roles: 'role-foo,role-bar',
  resources: '["cluster-a/node/foo","cluster-a/node/bar"]',
  request_reason: 'foo reason',
  reviews_count: '3',
  resolution: 'APPROVED',
  resolve_reason: 'foo ok',
  messages: 'CHANNEL1/0000001,CHANNEL2/0000002',
  max_duration: '2006-01-02T15:04:05Z',
};

describe('access-request plugin data (Go TestEncodePluginData & co.)', () => {
  it('encodes the sample to exactly the 9 keys Go writes', () => {
    expect(encodeRecord(sample())).toStrictEqual(goSampleMap);
  });

  it('decodes the Go map back to the sample', () => {
    expect(decodeRecord(goSampleMap)).toStrictEqual(sample());
  });

  it('encodes empty data to exactly 8 keys, all empty', () => {
    const map = encodeRecord(emptyRecord());
    expect(Object.keys(map).sort()).toStrictEqual(
      ['messages', 'request_reason', 'resolution', 'resolve_reason', 'resources', 'reviews_count', 'roles', 'user'],
    );
    expect(Object.values(map).every((v) => v === '')).toBe(true);
  });

  it('decodes no data and an empty map to the empty state', () => {
    expect(decodeRecord({})).toStrictEqual(emptyRecord());
    expect(decodeRequestData(undefined)).toStrictEqual(emptyRecord().request);
  });

  it('writes the optional JSON keys as Go json.Marshal: compact, map keys sorted, HTML-safe', () => {
    const map = encodeRequestData({
      ...emptyRecord().request,
      systemAnnotations: { 'teleport.dev/b': ['x'], 'teleport.dev/a': ['<y>&'] },
      suggestedReviewers: ['bob@example.com'],
      loginsByRole: { '10': ['root'], '9': [], admin: ['a', 'b'] },
    });
    expect(map.system_annotations).toBe('{"teleport.dev/a":["\\u003cy\\u003e\\u0026"],"teleport.dev/b":["x"]}');
    expect(map.suggested_reviewers).toBe('["bob@example.com"]');
    // Byte order, not JavaScript's integer-first key order.
    expect(map.logins_by_role).toBe('{"10":["root"],"9":[],"admin":["a","b"]}');
    expect(decodeRequestData(map).loginsByRole).toStrictEqual({ '10': ['root'], '9': [], admin: ['a', 'b'] });
  });

  it('sorts keys by UTF-8 bytes where UTF-16 order differs (above U+D800), and writes max_duration in seconds', () => {
    // U+FF21 (EF BC A1) sorts after U+1F600 (F0 9F 98 80) in UTF-16, before it in UTF-8.
    const map = encodeRequestData({ ...emptyRecord().request, loginsByRole: { '\u{1F600}': ['a'], '\uFF21': ['b'], z: [] }, maxDuration: new Date('2026-11-25T10:00:05.789Z') });
    expect(map.logins_by_role).toBe('{"z":[],"\uFF21":["b"],"\u{1F600}":["a"]}');
    expect(map.max_duration).toBe('2026-11-25T10:00:05Z');
  });

  it('keeps reviews_count empty for 0 and reads Go-lenient counts', () => {
    expect(encodeRequestData(emptyRecord().request).reviews_count).toBe('');
    expect(decodeRequestData({ reviews_count: '12' }).reviewsCount).toBe(12);
    expect(decodeRequestData({ reviews_count: 'x' }).reviewsCount).toBe(0);
  });

  it('reports unreadable JSON with the key name', () => {
    expect(() => decodeRequestData({ resources: '[oops' })).toThrow(/resources/);
    expect(() => decodeRequestData({ max_duration: 'yesterday' })).toThrow(/max_duration/);
  });

  it('writes email\'s minimal six keys', () => {
    const map = encodeRequestData(sample().request, 'minimal');
    expect(map).toStrictEqual({
      user: 'user-foo',
      roles: 'role-foo,role-bar',
      request_reason: 'foo reason',
      reviews_count: '3',
      resolution: 'APPROVED',
      resolve_reason: 'foo ok',
    });
  });

  it('goJson matches Go for strings with control characters and U+2028', () => {
    expect(goJson(['a\nb', 'tab\t', '\u2028', '"q"'])).toBe('["a\\nb","tab\\t","\\u2028","\\"q\\""]');
  });
});

describe('channelMessageCodec', () => {
  it('reads the legacy channel_id + timestamp pair and skips malformed entries', () => {
    expect(channelMessageCodec.decode({ channel_id: 'C0', timestamp: '1.2', messages: 'C1/1,bad,C2/2/3,C0/1.2' })).toStrictEqual([
      { channelId: 'C0', messageId: '1.2' },
      { channelId: 'C1', messageId: '1' },
    ]);
  });
});

describe('encodedMessageCodec (msteams layout)', () => {
  const messages = [
    { channelId: 'conv-1', messageId: 'A1', sentAt: 'Mon, 02 Jan 2006 15:04:05 MST', recipient: 'foo@example.com' },
    { channelId: 'conv-2', messageId: 'A2', sentAt: 'ts2', recipient: 'https://teams.microsoft.com/l/channel/x/y?groupId=g&tenantId=t' },
  ];

  it('encodes base64 of Go JSON {"id","ts","rid"}, & escaped as \\u0026', () => {
    const encoded = encodedMessageCodec.encode(messages).messages!.split(',');
    expect(Buffer.from(encoded[0]!, 'base64').toString()).toBe('{"id":"A1","ts":"Mon, 02 Jan 2006 15:04:05 MST","rid":"foo@example.com"}');
    expect(Buffer.from(encoded[1]!, 'base64').toString()).toContain('groupId=g\\u0026tenantId=t');
  });

  it('round-trips, with the raw recipient as the channel id', () => {
    const decoded = encodedMessageCodec.decode(encodedMessageCodec.encode(messages));
    expect(decoded.map((m) => [m.messageId, m.sentAt, m.recipient, m.channelId])).toStrictEqual([
      ['A1', 'Mon, 02 Jan 2006 15:04:05 MST', 'foo@example.com', 'foo@example.com'],
      ['A2', 'ts2', messages[1]!.recipient, messages[1]!.recipient],
    ]);
  });

  it('reads the legacy id/ts/rid form', () => {
    expect(encodedMessageCodec.decode({ messages: 'CHANNEL1/0000001/foo@example.com' })).toStrictEqual([
      { channelId: 'foo@example.com', messageId: 'CHANNEL1', sentAt: '0000001', recipient: 'foo@example.com' },
    ]);
  });
});

describe('threadCodec (email layout)', () => {
  it('encodes <email>/<timestamp>/<messageID> under email_threads, 7 keys with the minimal set', () => {
    const state: RequestRecord = {
      request: { ...emptyRecord().request, user: 'u' },
      messages: [
        { channelId: 'E1', sentAt: '0000001', messageId: 'M1' },
        { channelId: 'E2', sentAt: '0000002', messageId: 'M2' },
      ],
    };
    const map = encodeRecord(state, { keys: 'minimal', codec: threadCodec });
    expect(Object.keys(map)).toHaveLength(7);
    expect(map.email_threads).toBe('E1/0000001/M1,E2/0000002/M2');
    expect(decodeRecord(map, { keys: 'minimal', codec: threadCodec }).messages).toStrictEqual(state.messages);
  });

  it('reads the legacy email + timestamp pair as one thread without message id', () => {
    expect(threadCodec.decode({ email: 'a@b.c', timestamp: 't' })).toStrictEqual([{ channelId: 'a@b.c', messageId: '', sentAt: 't' }]);
  });
});

describe('claim keys', () => {
  it('are written only while claimed and read back', () => {
    const state: RequestRecord = { ...emptyRecord(), claim: { at: new Date('2030-01-01T00:00:00.123Z'), by: 'host/1/abc' }, unsent: ['#a', 'b@c.d'] };
    const map = encodeRecord(state);
    expect(map.claimed_at).toBe('2030-01-01T00:00:00.123Z');
    expect(map.claimed_by).toBe('host/1/abc');
    expect(map.unsent_recipients).toBe('["#a","b@c.d"]');
    expect(decodeRecord(map)).toStrictEqual(state);
    expect(encodeRecord(emptyRecord())).not.toHaveProperty('claimed_at');
  });
});
