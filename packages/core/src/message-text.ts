/**
 * Channel-neutral message text shared by the chat and mail channels: the field block, the
 * status line, review replies and the helpers behind them. The texts and the truncation rules
 * follow Teleport's shared access-request messages so a port shows what the Go daemons showed.
 *
 * Every function that places requester-controlled text takes `escape` (and optionally
 * `escapeCode`) so each channel neutralises its own markup (Slack `<!here>`, Discord `@everyone`,
 * HTML). Truncation always counts the raw text, so the limits match Go whatever the escaping.
 */
import type { RequestStatus, RequestView, ReviewView } from './channel.js';

/** Turns raw text into text that is safe inside a message of the channel's format. */
export type TextEscaper = (text: string) => string;

/** How a channel escapes text in plain positions and inside backtick code. */
export interface MessageTextOptions {
  /** Applied to requester-controlled text outside code (`*User*: …`, review authors). Default: none. */
  escape?: TextEscaper;
  /** Applied to the kept text inside backticks and fences. Default: `escape`. */
  escapeCode?: TextEscaper;
}

/** Truncation limit of inline values (roles, logins, resources), in bytes of raw text. */
export const INLINE_VALUE_LIMIT = 400;
/** Truncation limit of the request reason, resolution reason and review reasons. */
export const REASON_LIMIT = 400;
/** Appended after a cut value. */
export const TRUNCATED_SUFFIX = ' (truncated)';

const noEscape: TextEscaper = (text) => text;

const STATUS_EMOJI: Record<RequestStatus, string> = {
  PENDING: '⏳',
  APPROVED: '✅',
  DENIED: '❌',
  EXPIRED: '⌛',
  PROMOTED: '',
};

/** The emoji of a status; PROMOTED has none. */
export function statusEmoji(status: RequestStatus): string {
  return STATUS_EMOJI[status] ?? '';
}

/** `⏳ PENDING`, `✅ APPROVED`, `❌ DENIED`, `⌛ EXPIRED`, `PROMOTED`. */
export function statusDisplay(status: RequestStatus): string {
  const emoji = statusEmoji(status);
  return emoji ? `${emoji} ${status}` : status;
}

/** `✅` for an approving review, `❌` for a denying one, else empty. */
export function reviewStateEmoji(state: string): string {
  if (state === 'APPROVED') return '✅';
  if (state === 'DENIED') return '❌';
  return '';
}

// Go's unicode.IsSpace set (strings.TrimSpace); unlike String.prototype.trim it keeps U+FEFF.
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const LEADING_SPACE = new RegExp(`^[${GO_SPACE}]+`);
const TRAILING_SPACE = new RegExp(`[${GO_SPACE}]+$`);

/** Trims the whitespace Go's `strings.TrimSpace` trims. */
export function goTrimSpace(text: string): string {
  return text.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
}

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

/**
 * Keeps the part of `text` a Go `for i, r := range text` loop keeps before the byte index
 * reaches `limit`, where every backtick is followed by U+FEFF (so it cannot close the code
 * span) and lowers the limit by one.
 */
function cutForCode(text: string, limit: number): { kept: string; truncated: boolean } {
  let kept = '';
  let byteIndex = 0;
  let remaining = limit;
  for (const char of text) {
    if (byteIndex >= remaining) return { kept, truncated: true };
    kept += char;
    if (char === '`') {
      kept += '\uFEFF';
      remaining--;
    }
    byteIndex += utf8Length(char.codePointAt(0)!);
  }
  return { kept, truncated: false };
}

function wrapInCode(text: string, limit: number, open: string, close: string, escape: TextEscaper): string {
  const trimmed = goTrimSpace(text);
  if (trimmed === '') return '(empty)';
  const { kept, truncated } = cutForCode(trimmed, limit);
  return `${open}${escape(kept)}${close}${truncated ? TRUNCATED_SUFFIX : ''}`;
}

/**
 * Go's `MarkdownEscape`: trimmed text in a fence (```` ```\n…``` ````), backticks defused,
 * cut at `limit` bytes with ` (truncated)` after the fence; blank text gives `(empty)`.
 */
export function markdownEscape(text: string, limit: number, escape: TextEscaper = noEscape): string {
  return wrapInCode(text, limit, '```\n', '```', escape);
}

/** Go's `MarkdownEscapeInLine`: as `markdownEscape` with single backticks. */
export function markdownEscapeInline(text: string, limit: number, escape: TextEscaper = noEscape): string {
  return wrapInCode(text, limit, '`', '`', escape);
}

/** Byte-wise order, as Go's `slices.Sort` on strings. */
function sortedBytewise(list: readonly string[]): string[] {
  return [...list].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function fieldLine(label: string, value: string, extra?: [string, string]): string {
  const more = extra ? ` *${extra[0]}*: ${extra[1]}` : '';
  return `*${label}*: ${value}${more}\n`;
}

/**
 * The request's field block, one `*Label*: value\n` line each: ID, Cluster, User, roles (one
 * `*Role*: … *Login(s)*: …` line per sorted role when logins are known, else `*Role(s)*`),
 * Resource(s), Reason (fenced), then the web link, or while pending the `tsh` review commands.
 */
export function requestFields(view: RequestView, options: MessageTextOptions = {}): string {
  const escape = options.escape ?? noEscape;
  const escapeCode = options.escapeCode ?? escape;
  const inline = (text: string) => markdownEscapeInline(text, INLINE_VALUE_LIMIT, escapeCode);
  let out = fieldLine('ID', escape(view.id)) + fieldLine('Cluster', escape(view.clusterName));
  if (view.user) out += fieldLine('User', escape(view.user));
  const roles = sortedBytewise(view.roles);
  const logins = view.loginsByRole;
  if (logins && Object.keys(logins).length > 0) {
    for (const role of roles) {
      const list = sortedBytewise(logins[role] ?? []);
      out += fieldLine('Role', inline(role), ['Login(s)', inline(list.length ? list.join(', ') : '-')]);
    }
  } else if (roles.length > 0) {
    out += fieldLine('Role(s)', inline(roles.join(',')));
  }
  if (view.resources.length > 0) out += fieldLine('Resource(s)', inline(sortedBytewise(view.resources).join(',')));
  if (view.requestReason) out += fieldLine('Reason', markdownEscape(view.requestReason, REASON_LIMIT, escapeCode));
  if (view.link) {
    out += fieldLine('Link', view.link);
  } else if (view.status === 'PENDING') {
    const id = escapeCode(view.id);
    out += fieldLine('Approve', `\`tsh request review --approve ${id}\``);
    out += fieldLine('Deny', `\`tsh request review --deny ${id}\``);
  }
  return out;
}

/**
 * `*Status*: <emoji> <STATUS>` plus `\n*Resolution reason*: <fenced reason>` when there is one.
 * PROMOTED keeps Go's double space (`*Status*:  PROMOTED`).
 */
export function statusText(status: RequestStatus, resolveReason: string, options: MessageTextOptions = {}): string {
  const escapeCode = options.escapeCode ?? options.escape ?? noEscape;
  let out = `*Status*: ${statusEmoji(status)} ${status}`;
  if (resolveReason) out += `\n*Resolution reason*: ${markdownEscape(resolveReason, REASON_LIMIT, escapeCode)}`;
  return out;
}

/** First line of a new request message, by what is requested. */
export function requestTitle(kind: RequestView['kind']): string {
  switch (kind) {
    case 'resource':
      return 'You have a new Resource Request:';
    case 'long-term':
      return 'You have a new Resource Request (long-term access):';
    default:
      return 'You have a new Role Request:';
  }
}

/**
 * A review as a reply: `<author> reviewed the request at <RFC822>.`, `Resolution: <emoji>
 * <STATE>.` and, with a reason, `Reason: <fenced reason>.` (Go's template: the text ends with a
 * newline when there is no reason).
 */
export function reviewText(review: ReviewView, options: MessageTextOptions = {}): string {
  const escape = options.escape ?? noEscape;
  const escapeCode = options.escapeCode ?? escape;
  const at = review.created ? formatRfc822(review.created) : formatRfc822(new Date(0));
  const state = review.proposedState;
  let out = `${escape(review.author)} reviewed the request at ${at}.\nResolution: ${reviewStateEmoji(state)} ${state}.\n`;
  if (review.reason) out += `Reason: ${markdownEscape(review.reason, REASON_LIMIT, escapeCode)}.`;
  return out;
}

/** The requester's notice: `Request with ID "<id>" has been updated: *<STATUS>*` (Go `%q` quoting). */
export function requesterNoticeText(requestId: string, status: RequestStatus): string {
  return `Request with ID ${goQuote(requestId)} has been updated: *${status}*`;
}

/** Go's `%q` for the strings that occur here (printable text; JSON escapes the rest alike). */
export function goQuote(text: string): string {
  return JSON.stringify(text);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad2 = (n: number) => String(n).padStart(2, '0');

/** Go's `time.RFC822` (`02 Jan 06 15:04 MST`) in UTC, e.g. `05 Mar 24 09:07 UTC`. */
export function formatRfc822(date: Date): string {
  const year = pad2(date.getUTCFullYear() % 100);
  return `${pad2(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${year} ${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())} UTC`;
}

/** Go's `time.UnixDate` (`Mon Jan _2 15:04:05 MST 2006`) in UTC, e.g. `Tue Mar  5 09:07:02 UTC 2024`. */
export function formatUnixDate(date: Date): string {
  const day = String(date.getUTCDate()).padStart(2, ' ');
  const clock = `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}`;
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${day} ${clock} UTC ${date.getUTCFullYear()}`;
}

/**
 * A duration the way Go's `time.Duration.String` prints it at millisecond precision:
 * `1h30m0s`, `45m0s`, `1.5s`, `250ms`, `0s`.
 */
export function formatGoDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0s';
  if (rest < 1000) return `${sign}${rest}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = (rest / 1000).toFixed(3).replace(/\.?0+$/, '');
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

/**
 * How long from `from` until `until` (max duration, request TTL), rounded down to the minute,
 * as a Go duration (`7h59m0s`); `0s` when already past.
 */
export function durationUntil(until: Date, from: Date): string {
  const ms = until.getTime() - from.getTime();
  return ms <= 0 ? '0s' : formatGoDuration(Math.floor(ms / 60_000) * 60_000);
}
