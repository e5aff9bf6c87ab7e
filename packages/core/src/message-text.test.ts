import { describe, expect, it } from 'vitest';
import type { RequestView } from './channel.js';
import {
  durationUntil,
  formatGoDuration,
  formatRfc822,
  formatUnixDate,
  markdownEscape,
  markdownEscapeInline,
  requestFields,
  requesterNoticeText,
  requestTitle,
  reviewStateEmoji,
  reviewText,
  statusDisplay,
  statusText,
} from './message-text.js';

const ID = '00000000-0000-0000-0000-000000000000';

function view(over: Partial<RequestView> = {}): RequestView {
  return {
    id: ID,
    clusterName: 'example.teleport.sh',
    user: 'example@goteleport.com',
    roles: ['foo', 'bar'],
    resources: ['/example.teleport.sh/node/0000'],
    requestReason: 'test',
    kind: 'role',
    requestKind: 'UNDEFINED',
    suggestedReviewers: [],
    status: 'PENDING',
    resolveReason: '',
    reviews: [],
    link: `https://example.teleport.sh/web/requests/${ID}`,
    ...over,
  };
}

describe('requestFields', () => {
  it('renders the official roles example', () => {
    expect(requestFields(view())).toBe(
      [
        `*ID*: ${ID}`,
        '*Cluster*: example.teleport.sh',
        '*User*: example@goteleport.com',
        '*Role(s)*: `bar,foo`',
        '*Resource(s)*: `/example.teleport.sh/node/0000`',
        '*Reason*: ```',
        'test```',
        `*Link*: https://example.teleport.sh/web/requests/${ID}`,
        '',
      ].join('\n'),
    );
  });

  it('renders the official logins example, one sorted line per role', () => {
    const text = requestFields(
      view({
        roles: ['admin', 'foo', 'bar', 'dev'],
        loginsByRole: { admin: ['foo', 'bar', 'root'], foo: ['foo'], bar: ['bar'], dev: [] },
      }),
    );
    expect(text).toBe(
      [
        `*ID*: ${ID}`,
        '*Cluster*: example.teleport.sh',
        '*User*: example@goteleport.com',
        '*Role*: `admin` *Login(s)*: `bar, foo, root`',
        '*Role*: `bar` *Login(s)*: `bar`',
        '*Role*: `dev` *Login(s)*: `-`',
        '*Role*: `foo` *Login(s)*: `foo`',
        '*Resource(s)*: `/example.teleport.sh/node/0000`',
        '*Reason*: ```',
        'test```',
        `*Link*: https://example.teleport.sh/web/requests/${ID}`,
        '',
      ].join('\n'),
    );
  });

  it('shows the tsh review commands while pending without a link, and nothing once resolved', () => {
    const pending = requestFields(view({ link: undefined, resources: [], requestReason: '' }));
    expect(pending.endsWith(`*Approve*: \`tsh request review --approve ${ID}\`\n*Deny*: \`tsh request review --deny ${ID}\`\n`)).toBe(true);
    const resolved = requestFields(view({ link: undefined, status: 'APPROVED' }));
    expect(resolved).not.toContain('Approve');
    expect(resolved.endsWith('test```\n')).toBe(true);
  });

  it('leaves out the user, roles, resources and reason when absent', () => {
    const text = requestFields(view({ user: '', roles: [], resources: [], requestReason: '' }));
    expect(text).toBe(`*ID*: ${ID}\n*Cluster*: example.teleport.sh\n*Link*: https://example.teleport.sh/web/requests/${ID}\n`);
  });

  it('applies the channel escaping to requester text but not to its own markup', () => {
    const escape = (t: string) => t.replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const text = requestFields(view({ user: '<!channel>', roles: ['<@U1>'], requestReason: '<https://evil|x>' }), { escape });
    expect(text).toContain('*User*: &lt;!channel&gt;');
    expect(text).toContain('*Role(s)*: `&lt;@U1&gt;`');
    expect(text).toContain('*Reason*: ```\n&lt;https://evil|x&gt;```');
    expect(text).not.toMatch(/<[!@h]/);
  });

  it('uses escapeCode inside backticks when given', () => {
    const text = requestFields(view({ user: 'a_b', requestReason: 'a_b' }), {
      escape: (t) => t.replace(/_/g, '\\_'),
      escapeCode: (t) => t,
    });
    expect(text).toContain('*User*: a\\_b');
    expect(text).toContain('```\na_b```');
  });
});

describe('markdownEscape', () => {
  it('truncates the official long reason after 389 A at limit 400', () => {
    const out = markdownEscape(`because of ${'A'.repeat(4000)}`, 400);
    expect(out).toBe(`\`\`\`\nbecause of ${'A'.repeat(389)}\`\`\` (truncated)`);
  });

  it('keeps text that fits, trims it, and shows blank text as (empty)', () => {
    expect(markdownEscape(`  ${'A'.repeat(400)}\n`, 400)).toBe(`\`\`\`\n${'A'.repeat(400)}\`\`\``);
    expect(markdownEscape(' \n\t ', 400)).toBe('(empty)');
    expect(markdownEscapeInline('', 400)).toBe('(empty)');
  });

  it('defuses backticks with U+FEFF, each costing one more unit', () => {
    expect(markdownEscapeInline('a`b', 400)).toBe('`a`\uFEFFb`');
    expect(markdownEscape('```', 400)).toBe('```\n`\uFEFF`\uFEFF`\uFEFF```');
    // Two backticks lower the limit from 5 to 3, so the rune at byte index 3 is cut.
    expect(markdownEscapeInline('``x`yz', 5)).toBe('``\uFEFF`\uFEFFx` (truncated)');
  });

  it('counts UTF-8 bytes like Go, never splitting a character', () => {
    // "é" is 2 bytes: runes start at byte 0, 2, 4 → a limit of 3 keeps two.
    expect(markdownEscapeInline('ééé', 3)).toBe('`éé` (truncated)');
    expect(markdownEscapeInline('😀😀', 4)).toBe('`😀` (truncated)');
  });

  it('keeps U+FEFF at the edges (Go does not trim it)', () => {
    expect(markdownEscapeInline('\uFEFFx', 400)).toBe('`\uFEFFx`');
  });
});

describe('status and review texts', () => {
  it('shows each status with its emoji', () => {
    expect(statusDisplay('PENDING')).toBe('⏳ PENDING');
    expect(statusDisplay('APPROVED')).toBe('✅ APPROVED');
    expect(statusDisplay('DENIED')).toBe('❌ DENIED');
    expect(statusDisplay('EXPIRED')).toBe('⌛ EXPIRED');
    expect(statusDisplay('PROMOTED')).toBe('PROMOTED');
    expect(reviewStateEmoji('APPROVED')).toBe('✅');
    expect(reviewStateEmoji('DENIED')).toBe('❌');
  });

  it('renders the status line like the official suite', () => {
    expect(statusText('PENDING', '')).toBe('*Status*: ⏳ PENDING');
    expect(statusText('APPROVED', 'okay')).toBe('*Status*: ✅ APPROVED\n*Resolution reason*: ```\nokay```');
    expect(statusText('DENIED', `not okay ${'A'.repeat(4000)}`)).toBe(
      `*Status*: ❌ DENIED\n*Resolution reason*: \`\`\`\nnot okay ${'A'.repeat(391)}\`\`\` (truncated)`,
    );
    expect(statusText('EXPIRED', '')).toBe('*Status*: ⌛ EXPIRED');
    expect(statusText('PROMOTED', '')).toBe('*Status*:  PROMOTED');
  });

  it('renders a review reply', () => {
    const created = new Date(Date.UTC(2024, 2, 5, 9, 7, 2));
    expect(reviewText({ author: 'reviewer1@example.com', proposedState: 'APPROVED', reason: 'okay', created })).toBe(
      'reviewer1@example.com reviewed the request at 05 Mar 24 09:07 UTC.\nResolution: ✅ APPROVED.\nReason: ```\nokay```.',
    );
    expect(reviewText({ author: 'r2', proposedState: 'DENIED', reason: '', created })).toBe(
      'r2 reviewed the request at 05 Mar 24 09:07 UTC.\nResolution: ❌ DENIED.\n',
    );
  });

  it('titles a request by kind and words the requester notice', () => {
    expect(requestTitle('role')).toBe('You have a new Role Request:');
    expect(requestTitle('resource')).toBe('You have a new Resource Request:');
    expect(requestTitle('long-term')).toBe('You have a new Resource Request (long-term access):');
    expect(requesterNoticeText(ID, 'APPROVED')).toBe(`Request with ID "${ID}" has been updated: *APPROVED*`);
  });
});

describe('time and duration formats', () => {
  it('formats Go RFC822 and UnixDate in UTC', () => {
    const d = new Date(Date.UTC(2006, 0, 2, 15, 4, 5));
    expect(formatRfc822(d)).toBe('02 Jan 06 15:04 UTC');
    expect(formatUnixDate(d)).toBe('Mon Jan  2 15:04:05 UTC 2006');
    expect(formatUnixDate(new Date(Date.UTC(2024, 11, 25, 0, 0, 0)))).toBe('Wed Dec 25 00:00:00 UTC 2024');
  });

  it('formats durations like Go', () => {
    expect(formatGoDuration(0)).toBe('0s');
    expect(formatGoDuration(250)).toBe('250ms');
    expect(formatGoDuration(1500)).toBe('1.5s');
    expect(formatGoDuration(45 * 60_000)).toBe('45m0s');
    expect(formatGoDuration(90 * 60_000)).toBe('1h30m0s');
    expect(formatGoDuration(24 * 3_600_000)).toBe('24h0m0s');
    const from = new Date(Date.UTC(2024, 0, 1, 0, 0, 0));
    expect(durationUntil(new Date(from.getTime() + 8 * 3_600_000 - 30_000), from)).toBe('7h59m0s');
    expect(durationUntil(new Date(from.getTime() - 1), from)).toBe('0s');
  });
});
