// Requester-controlled text cannot ping, format, link or break the post's layout.
import { describe, expect, it } from 'vitest';
import { defuseMentions, escapeMarkdown, requestPost } from '@tap/mattermost';

describe('mentions', () => {
  it('stops @channel, @all, @here and @user pings without changing what is read', () => {
    for (const word of ['@channel', '@all', '@here', '@alice', '@first.last', '@ALL']) {
      const out = defuseMentions(`hi ${word}!`);
      expect(out).not.toContain(word);
      expect(out.replace(/\u2060/g, '')).toBe(`hi ${word}!`);
    }
    expect(defuseMentions('@here')).toBe('@\u2060here');
  });

  it('leaves email addresses alone', () => {
    expect(defuseMentions('reviewer1@example.com and a+b@x.io')).toBe('reviewer1@example.com and a+b@x.io');
    expect(escapeMarkdown('reviewer1@example.com')).toBe('reviewer1@example.com');
  });
});

describe('markdown', () => {
  it('escapes emphasis, links, images, html, headings and tables', () => {
    expect(escapeMarkdown('**bold** _it_ ~~s~~ `code`')).toBe('\\*\\*bold\\*\\* \\_it\\_ \\~\\~s\\~\\~ \\`code\\`');
    expect(escapeMarkdown('[click](https://evil.example)')).toBe('\\[click\\]\\(https\\://evil.example\\)');
    expect(escapeMarkdown('![x](y) <b> # h | t')).toBe('\\!\\[x\\]\\(y\\) \\<b\\> \\# h \\| t');
  });

  it('breaks bare auto-links and keeps everything on one line', () => {
    expect(escapeMarkdown('see https://evil.example or www.evil.example')).toBe('see https\\://evil.example or www\\.evil.example');
    expect(escapeMarkdown('alice\n**Status**: ✅ APPROVED')).toBe('alice \\*\\*Status\\*\\*: ✅ APPROVED');
  });

  it('a hostile user name cannot forge a field line of the post', () => {
    const text = requestPost({
      id: 'r1', clusterName: 'c', user: 'mallory\n**Status**: ✅ APPROVED @channel', roles: ['editor'], resources: [],
      requestReason: '', kind: 'role', requestKind: 'SHORT_TERM', suggestedReviewers: [], status: 'PENDING', resolveReason: '', reviews: [],
    });
    expect(text.match(/^\*\*Status\*\*/gm)).toHaveLength(1);
    expect(text).not.toContain('@channel');
  });
});
