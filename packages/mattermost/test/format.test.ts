// The post and comment texts, line by line as the Go daemon's templates, with requester text escaped.
import { describe, expect, it } from 'vitest';
import type { RequestView } from '@tap/core';
import { requestPost, requesterNotice, reviewComment } from '@tap/mattermost';

const view = (over: Partial<RequestView> = {}): RequestView => ({
  id: 'a1b2c3d4-0000-4000-8000-000000000001',
  clusterName: 'example.com',
  user: 'alice',
  roles: ['editor', 'auditor'],
  resources: [],
  requestReason: 'need to deploy',
  kind: 'role',
  requestKind: 'SHORT_TERM',
  suggestedReviewers: [],
  status: 'PENDING',
  resolveReason: '',
  reviews: [],
  ...over,
});

/** What the Go tests read: `**Label**: value` lines. */
const field = (text: string, label: string) => new RegExp(`^\\*\\*${label}\\*\\*: +(.+)$`, 'm').exec(text)?.[1];

describe('request post', () => {
  it('while pending without a web link: heading, fields in request order and the tsh commands', () => {
    expect(requestPost(view())).toBe(
      '*You have new pending request to review!*\n' +
        '**User**: alice\n' +
        '**Roles**: editor, auditor\n' +
        '**Request ID**: a1b2c3d4-0000-4000-8000-000000000001\n' +
        '**Reason**: ```\nneed to deploy```\n' +
        '**Status**: ⏳ PENDING\n' +
        '\n' +
        '**Approve**: `tsh request review --approve a1b2c3d4-0000-4000-8000-000000000001`\n' +
        '**Deny**: `tsh request review --deny a1b2c3d4-0000-4000-8000-000000000001`',
    );
  });

  it('approved with a web link: no heading, the resolution reason, the link, no tsh commands', () => {
    const link = 'https://teleport.example.com/web/requests/a1b2c3d4-0000-4000-8000-000000000001';
    const text = requestPost(view({ status: 'APPROVED', resolveReason: 'okay', requestReason: '', link }));
    expect(text).toBe(
      '\n**User**: alice\n**Roles**: editor, auditor\n**Request ID**: a1b2c3d4-0000-4000-8000-000000000001\n\n' +
        '**Status**: ✅ APPROVED\n**Resolution reason**: ```\nokay```\n' +
        `**Link**: [${link}](${link})\n`,
    );
    expect(field(text, 'Status')).toBe('✅ APPROVED');
  });

  it('shows denied, expired and promoted as Go does (promoted has no emoji)', () => {
    expect(field(requestPost(view({ status: 'DENIED' })), 'Status')).toBe('❌ DENIED');
    expect(field(requestPost(view({ status: 'EXPIRED' })), 'Status')).toBe('⌛ EXPIRED');
    expect(requestPost(view({ status: 'PROMOTED' }))).toContain('**Status**:  PROMOTED\n');
    expect(requestPost(view({ status: 'EXPIRED' }))).not.toContain('tsh request review');
  });

  it('cuts reasons at 500 bytes (Mattermost keeps the older limit)', () => {
    const text = requestPost(view({ requestReason: `because of ${'A'.repeat(4000)}`, status: 'DENIED', resolveReason: `not okay ${'A'.repeat(4000)}` }));
    expect(text).toContain(`**Reason**: \`\`\`\nbecause of ${'A'.repeat(489)}\`\`\` (truncated)\n`);
    expect(text).toContain(`**Resolution reason**: \`\`\`\nnot okay ${'A'.repeat(491)}\`\`\` (truncated)\n`);
  });

  it('keeps a reason from closing its fence or pinging anyone', () => {
    const text = requestPost(view({ requestReason: '```\n@channel hi @alice' }));
    expect(text).toContain('**Reason**: ```\n`\uFEFF`\uFEFF`\uFEFF\n@\u2060channel hi @\u2060alice```');
  });
});

describe('review comment', () => {
  it('has the author, time, proposed state and fenced reason', () => {
    const created = new Date(Date.UTC(2024, 2, 5, 9, 7));
    expect(reviewComment({ author: 'bob@example.com', proposedState: 'APPROVED', reason: 'okay', created })).toBe(
      'bob@example.com reviewed the request at 05 Mar 24 09:07 UTC.\nResolution: ✅ APPROVED.\nReason: ```\nokay```.',
    );
    expect(reviewComment({ author: 'carol', proposedState: 'DENIED', reason: '', created })).toBe(
      'carol reviewed the request at 05 Mar 24 09:07 UTC.\nResolution: ❌ DENIED.\n',
    );
  });
});

describe('requester notice', () => {
  it('names the request and its outcome, with the reason', () => {
    const text = requesterNotice(view({ status: 'DENIED', resolveReason: 'not now' }));
    expect(text).toBe('Request with ID "a1b2c3d4-0000-4000-8000-000000000001" has been updated: *DENIED*\n**Resolution reason**: ```\nnot now```');
  });
});
