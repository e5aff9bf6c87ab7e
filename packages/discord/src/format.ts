/**
 * Discord message bodies, as the Go daemon lays them out: the request as `content` (title,
 * the shared field block and the status line), and each review as an embed on that same
 * message (Discord has no threads for bots here). Every body sets `allowed_mentions` to
 * parse nothing, and stays within Discord's limits.
 */
import { REASON_LIMIT, type RequestView, type ReviewView, TRUNCATED_SUFFIX, formatUnixDate, markdownEscape, requestFields, requestTitle, requesterNoticeText, statusText } from '@tap/core';
import { escapeDiscord, escapeDiscordCode } from './escape.js';

/** Discord's limits (characters, as Discord counts them: UTF-16 code units). */
export const LIMITS = { content: 2000, embeds: 10, title: 256, description: 4096, authorName: 256, embedTotal: 6000 } as const;

const APPROVED_COLOR = 0x238823;
const DENIED_COLOR = 0xd2222d;
const escaping = { escape: escapeDiscord, escapeCode: escapeDiscordCode };

export interface DiscordEmbed {
  title?: string;
  description?: string;
  color?: number;
  author: { name: string };
}

export interface DiscordMessageBody {
  content: string;
  embeds?: DiscordEmbed[];
  allowed_mentions: { parse: never[] };
}

/** Cuts `text` to `limit` UTF-16 units (never inside a surrogate pair), marking the cut. */
export function fit(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cut = limit - TRUNCATED_SUFFIX.length;
  if (/[\uD800-\uDBFF]/.test(text[cut - 1] ?? '')) cut--;
  return text.slice(0, cut) + TRUNCATED_SUFFIX;
}

/** The request message (post and every edit), with one embed per review (the newest 10). */
export function requestMessage(view: RequestView): DiscordMessageBody {
  const content = fit(`${requestTitle(view.kind)}\n${requestFields(view, escaping)}${statusText(view.status, view.resolveReason, escaping)}`, LIMITS.content);
  const embeds = fitEmbeds(view.reviews.map(reviewEmbed));
  return { content, ...(embeds.length ? { embeds } : {}), allowed_mentions: { parse: [] } };
}

/** One review: `Approved request at <Go UnixDate>`, the fenced reason, green or red, the author. */
export function reviewEmbed(review: ReviewView): DiscordEmbed {
  const verb = review.proposedState === 'APPROVED' ? 'Approved' : review.proposedState === 'DENIED' ? 'Denied' : '';
  const color = verb === 'Approved' ? APPROVED_COLOR : verb === 'Denied' ? DENIED_COLOR : undefined;
  return {
    ...(verb ? { title: fit(`${verb} request at ${formatUnixDate(review.created ?? new Date(0))}`, LIMITS.title) } : {}),
    ...(review.reason ? { description: fit(`Reason: ${markdownEscape(review.reason, REASON_LIMIT, escapeDiscordCode)}`, LIMITS.description) } : {}),
    ...(color !== undefined ? { color } : {}),
    // Embed author names are not rendered as markdown; only the length needs care.
    author: { name: fit(review.author, LIMITS.authorName) },
  };
}

/** At most 10 embeds and 6000 characters in all: the oldest reviews give way. */
function fitEmbeds(embeds: DiscordEmbed[]): DiscordEmbed[] {
  const size = (e: DiscordEmbed) => (e.title?.length ?? 0) + (e.description?.length ?? 0) + e.author.name.length;
  const kept = embeds.slice(-LIMITS.embeds);
  while (kept.length && kept.reduce((n, e) => n + size(e), 0) > LIMITS.embedTotal) kept.shift();
  return kept;
}

/** The requester's direct message once the request is resolved. */
export function requesterNotice(view: RequestView): DiscordMessageBody {
  return { content: requesterNoticeText(view.id, view.status), allowed_mentions: { parse: [] } };
}

/** `validate --send-test`. */
export function testMessage(pluginName: string): DiscordMessageBody {
  return { content: `Test message from teleport-${pluginName}: access requests routed to this channel will appear here.`, allowed_mentions: { parse: [] } };
}
