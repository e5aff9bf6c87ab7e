// The Adaptive Card: requester-controlled text only ever in TextBlocks, escaped so that Teams'
// markdown makes nothing of it (checked with a CommonMark renderer with HTML and linkify on).
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import type { RequestView } from '@tap/core';
import { buildCard, escapeCardText } from '@tap/msteams';
import { cardText, unescapeCardText } from '../src/testing/fake-msteams.js';

const INJECTION = '[click](https://evil) **bold** <at>everyone</at>';
const PAYLOADS = [
  INJECTION,
  '<https://evil.example/x> and https://evil.example/y and www.evil.example',
  '# heading\n- item\n+ item\n1. first\n2) second\n> quote\n---\n===',
  '`code` _it_ *it* ~~strike~~ | a | b |\n|---|---|',
  '&lt;at&gt;everyone&lt;/at&gt; &amp; &#60;b&#62; \\[x\\](y)',
  '![img](https://evil.example/p.png) [ref][1]\n\n[1]: https://evil.example',
  '<b>bold</b> <script>alert(1)</script> <a href="https://evil.example">x</a>',
];

const md = new MarkdownIt({ html: true, linkify: true });
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });

/** Text content of rendered HTML (tags dropped, the few entities markdown-it writes decoded). */
const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&')
    .replace(/\n+$/, '');

function view(text: string): RequestView {
  return {
    id: '0b1c2d3e-0000-4000-8000-000000000001',
    clusterName: 'cluster',
    user: `alice ${text}`,
    roles: ['editor', text],
    resources: [`/cluster/node/${text}`],
    requestReason: text,
    kind: 'role',
    requestKind: 'SHORT_TERM' as RequestView['requestKind'],
    suggestedReviewers: [],
    status: 'DENIED',
    resolveReason: text,
    link: 'https://teleport.example.com/web/requests/0b1c2d3e-0000-4000-8000-000000000001',
    reviews: [{ author: `bob ${text}`, proposedState: 'DENIED', reason: text, created: new Date(0) }],
  } as RequestView;
}

/** Every element of the card, depth first. */
function elements(node: unknown, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (!node || typeof node !== 'object') return out;
  if (!Array.isArray(node) && 'type' in node) out.push(node as Record<string, unknown>);
  for (const v of Object.values(node)) elements(v, out);
  return out;
}

describe('the card and requester text', () => {
  for (const payload of PAYLOADS) {
    it(`renders inert: ${JSON.stringify(payload).slice(0, 60)}`, () => {
      const card = buildCard(view(payload));
      const all = elements(card);
      // No FactSet (or any element with markdown-rendered values other than TextBlock).
      expect(all.map((e) => e.type).filter((t) => !['AdaptiveCard', 'TextBlock', 'ColumnSet', 'Column', 'Container', 'Action.OpenUrl'].includes(String(t)))).toStrictEqual([]);
      expect(JSON.stringify(card)).not.toContain('"facts"');
      expect(JSON.stringify(card)).not.toContain('msteams');
      // Wherever the payload's words appear, it is a TextBlock's text.
      const blocks = all.filter((e) => e.type === 'TextBlock').map((e) => String(e.text));
      const marker = payload.split(/\s/)[0]!.replace(/[^a-z0-9]/gi, '').slice(0, 4) || 'evil';
      for (const e of all) for (const [k, v] of Object.entries(e)) if (typeof v === 'string' && k !== 'text' && k !== '$schema' && e.type !== 'Action.OpenUrl') expect(v).not.toContain(marker);
      // Each block, rendered as CommonMark (HTML and linkify on), has no markup: its text is
      // exactly what was written.
      for (const text of blocks) {
        const html = md.render(text);
        expect(html, text).not.toMatch(/<(a|strong|em|s|del|code|img|at|b|script|h\d|ul|ol|li|blockquote|hr|table)\b/);
        const paragraphs = html.replace(/^<p>|<\/p>\n?$/g, '');
        expect(textOf(paragraphs.replace(/<\/p>\n<p>/g, '\n\n')).replace(/<br>\n?/g, '\n').replaceAll('\u200b', ''), text).toBe(unescapeCardText(text));
      }
      // And the reader sees what the requester typed.
      expect(blocks.map(unescapeCardText)).toContain(payload);
      expect(blocks.map(unescapeCardText)).toContain(`alice ${payload}`);
      expect(blocks.map(unescapeCardText)).toContain(`bob ${payload}`);
    });
  }

  it('escapes the injection payload as expected', () => {
    expect(escapeCardText(INJECTION)).toBe('\\[click\\](https:\u200b//evil) \\*\\*bold\\*\\* \\<at\\>everyone\\</at\\>');
  });

  it('leaves ordinary names alone and lays the facts out as label/value rows', () => {
    const text = cardText(buildCard({ ...view('fine'), user: 'alice@example.com', roles: ['editor', 'db-admin'], resolveReason: 'ok' }));
    expect(text).toContain('User: alice@example.com');
    expect(text).toContain('Role(s): editor, db-admin');
    expect(text).toContain('Resolution reason: ok');
    expect(text).toContain('Author: bob fine');
  });
});
