/**
 * The Adaptive Card of a request, laid out as the Go daemon's: title, status (emoji and
 * colour), the facts, the reviews, and an "Open" button when the web UI is known.
 *
 * Unlike Go's, no text a requester or reviewer wrote (user and role names, resources, reasons,
 * review authors) goes into a FactSet or another element whose text Teams treats specially:
 * each fact is a row of two `TextBlock`s (label, value), and since Teams renders markdown in a
 * TextBlock too, every value goes through `escapeCardText`. Cards carry no mention entities,
 * so nobody can be @-mentioned.
 */
import { type RequestView, type ReviewView, formatRfc822, reviewStateEmoji } from '@tap/core';

export type CardElement = Record<string, unknown>;
export interface AdaptiveCard {
  type: 'AdaptiveCard';
  version: '1.2';
  $schema: string;
  body: CardElement[];
  actions?: CardElement[];
}

const ZWSP = '\u200b';
const STATUS: Record<RequestView['status'], { emoji: string; color: string }> = {
  PENDING: { emoji: '⏳', color: 'Accent' },
  APPROVED: { emoji: '✅', color: 'Good' },
  DENIED: { emoji: '❌', color: 'Attention' },
  EXPIRED: { emoji: '⌛', color: 'Accent' },
  PROMOTED: { emoji: '✅', color: 'Good' },
};

/**
 * Makes text inert in a markdown-rendering TextBlock: the markdown and HTML control characters
 * (`\ * _ ~ ` [ ] < > # | &`, and list or heading markers at a line start) are
 * backslash-escaped (CommonMark), so `[x](url)`, `**bold**`, `<at>…</at>` and `&lt;` show as
 * typed; bare URLs and `www.` get an invisible ZWSP so that they are not auto-linked.
 */
export function escapeCardText(text: string): string {
  return text
    .replace(/[\\`*_~[\]<>#|&]/g, (c) => `\\${c}`)
    .replace(/^([ \t]*)([-+=])/gm, '$1\\$2')
    .replace(/^([ \t]*\d+)([.)])/gm, '$1\\$2')
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${ZWSP}.`);
}

/** One fact: the label and the (escaped) value, each a TextBlock, side by side. */
function fact(title: string, value: string): CardElement {
  return {
    type: 'ColumnSet',
    spacing: 'none',
    columns: [
      { type: 'Column', width: 1, items: [{ type: 'TextBlock', text: title, weight: 'bolder', wrap: true }] },
      { type: 'Column', width: 3, items: [{ type: 'TextBlock', text: escapeCardText(value), wrap: true }] },
    ],
  };
}

/** Go's `time.Time.String()` in UTC: `2024-07-01 12:00:00 +0000 UTC`. */
export function goTimeString(date: Date): string {
  const iso = date.toISOString();
  const ms = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${ms}` : ''} +0000 UTC`;
}

export function buildCard(view: RequestView): AdaptiveCard {
  const status = STATUS[view.status];
  const facts = [fact('Cluster', view.clusterName || '-'), fact('User', view.user)];
  if (view.roles.length) facts.push(fact('Role(s)', view.roles.join(', ')));
  if (view.resources.length) facts.push(fact('Resource(s)', view.resources.join(', ')));
  if (view.maxDuration) facts.push(fact('Max Duration', goTimeString(view.maxDuration)));
  if (view.requestReason) facts.push(fact('Reason', view.requestReason));
  if (view.resolveReason) facts.push(fact('Resolution reason', view.resolveReason));
  if (!view.link && view.status === 'PENDING') {
    facts.push(fact('Approve', `tsh request review --approve ${view.id}`), fact('Deny', `tsh request review --deny ${view.id}`));
  }
  const body: CardElement[] = [
    { type: 'TextBlock', text: `Access Request ${view.id}`, size: 'small' },
    {
      type: 'ColumnSet',
      columns: [
        { type: 'Column', items: [{ type: 'TextBlock', text: status.emoji, size: 'large' }], width: 'stretch' },
        { type: 'Column', items: [{ type: 'TextBlock', text: view.status, color: status.color, size: 'large', weight: 'bolder' }], width: 'auto' },
      ],
    },
    { type: 'Container', items: facts },
  ];
  if (view.reviews.length) {
    body.push({ type: 'TextBlock', text: 'Reviews', color: 'accent', weight: 'bolder', separator: true });
    for (const review of view.reviews) body.push(reviewFacts(review));
  }
  const card: AdaptiveCard = { type: 'AdaptiveCard', version: '1.2', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', body };
  if (view.link) card.actions = [{ type: 'Action.OpenUrl', url: view.link, title: 'Open' }];
  return card;
}

function reviewFacts(review: ReviewView): CardElement {
  const facts = [
    // Go leaves the status fact empty (and the card invalid) for other states; show the state.
    fact('Status', reviewStateEmoji(review.proposedState) || review.proposedState),
    fact('Author', review.author),
    fact('Created at', formatRfc822(review.created ?? new Date(0))),
  ];
  if (review.reason) facts.push(fact('Reason', review.reason));
  return { type: 'Container', separator: true, items: facts };
}

/** `validate`'s greeting card. */
export function helloCard(): AdaptiveCard {
  return {
    type: 'AdaptiveCard',
    version: '1.2',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    body: [
      { type: 'TextBlock', text: 'Hello, world!', size: 'large' },
      { type: 'TextBlock', text: '*Sincerely yours,*' },
      { type: 'TextBlock', text: 'Teleport Bot!' },
    ],
  };
}
