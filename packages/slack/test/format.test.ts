// Block Kit rendering: Slack's 3000-character text objects, escaping and the fallback text.
import { describe, expect, it } from 'vitest';
import type { RequestView } from '@tap/core';
import { escapeMrkdwn, fitTextObject, requestMessage, reviewReply } from '@tap/slack';

const view = (over: Partial<RequestView> = {}): RequestView => ({
  id: '00000000-0000-0000-0000-000000000001',
  clusterName: 'example',
  user: 'alice@example.com',
  roles: ['editor'],
  resources: [],
  requestReason: 'fix prod',
  kind: 'role',
  requestKind: 'SHORT_TERM' as RequestView['requestKind'],
  suggestedReviewers: [],
  status: 'PENDING',
  resolveReason: '',
  reviews: [],
  ...over,
});

describe('escapeMrkdwn', () => {
  it('turns every <…> control sequence and broadcast word into plain text', () => {
    expect(escapeMrkdwn('<!channel> & <@U1> <https://x|y>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;');
    expect(escapeMrkdwn('@here @Channel @everyone')).toBe('@\u2060here @\u2060Channel @\u2060everyone');
    expect(escapeMrkdwn('ops@here.com')).toBe('ops@here.com');
  });
});

describe('requestMessage', () => {
  it('lays out title, fields and status, with a notification text naming the requester', () => {
    const body = requestMessage(view());
    expect(body.blocks.map((b) => b.type)).toStrictEqual(['section', 'section', 'context']);
    expect(JSON.stringify(body.blocks[1])).toContain('alice@example.com');
    expect(body.text).toContain('alice@example.com');
    expect(body.text).toContain('PENDING');
  });

  it('keeps every text object within 3000 bytes however many resources are requested', () => {
    const resources = Array.from({ length: 500 }, (_, i) => `/example/node/server-${i}-${'x'.repeat(20)}`);
    const body = requestMessage(view({ kind: 'resource', resources, roles: [] }));
    for (const block of body.blocks) {
      const texts = block.type === 'section' ? [block.text.text] : block.elements.map((e) => e.text);
      for (const t of texts) expect(Buffer.byteLength(t)).toBeLessThanOrEqual(3000);
    }
    expect(JSON.stringify(body.blocks[1])).toContain('(truncated)');
  });

  it('cuts by bytes without splitting a character', () => {
    const cut = fitTextObject('한'.repeat(2000));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(3000);
    expect(cut.endsWith('한 (truncated)')).toBe(true);
  });

  it('escapes the reviewer and the review reason in thread replies', () => {
    const reply = reviewReply({ author: '<!here>', proposedState: 'APPROVED', reason: '<https://evil|x>' });
    expect(reply.text).not.toContain('<!here>');
    expect(reply.text).not.toContain('<https://evil');
  });
});
