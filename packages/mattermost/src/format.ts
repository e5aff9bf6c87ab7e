/**
 * Mattermost post texts, laid out line by line as the Go daemon's templates: one markdown
 * message per request (re-rendered on every update) and one threaded comment per review.
 * Reasons are fenced and cut at 500 bytes (Mattermost keeps its own limit, not the shared 400);
 * user names, roles and review authors are escaped with `escapeMarkdown`.
 */
import { type RequestView, type ReviewView, formatRfc822, markdownEscape, requesterNoticeText, reviewStateEmoji, statusEmoji } from '@tap/core';
import { defuseMentions, escapeMarkdown } from './escape.js';

/** Limit of the request, resolution and review reasons, in bytes of raw text (Go: 500). */
export const MATTERMOST_REASON_LIMIT = 500;

const fenced = (text: string) => markdownEscape(text, MATTERMOST_REASON_LIMIT, defuseMentions);

/**
 * The request post. Conditional lines stay as empty lines when absent, as Go's template leaves
 * them, so a post reads the same whichever daemon wrote it.
 */
export function requestPost(view: RequestView): string {
  const pending = view.status === 'PENDING';
  let text = `${pending ? '*You have new pending request to review!*' : ''}\n`;
  text += `**User**: ${escapeMarkdown(view.user)}\n`;
  text += `**Roles**: ${view.roles.map(escapeMarkdown).join(', ')}\n`;
  text += `**Request ID**: ${view.id}\n`;
  text += `${view.requestReason ? `**Reason**: ${fenced(view.requestReason)}` : ''}\n`;
  text += `**Status**: ${statusEmoji(view.status)} ${view.status}\n`;
  text += `${view.resolveReason ? `**Resolution reason**: ${fenced(view.resolveReason)}` : ''}\n`;
  if (view.link) {
    text += `**Link**: [${view.link}](${view.link})\n`;
  } else if (pending) {
    text += `**Approve**: \`tsh request review --approve ${view.id}\`\n**Deny**: \`tsh request review --deny ${view.id}\``;
  }
  return text;
}

/** A review as a thread comment: author and time, proposed state, and the fenced reason. */
export function reviewComment(review: ReviewView): string {
  const at = formatRfc822(review.created ?? new Date(0));
  const state = review.proposedState;
  let text = `${escapeMarkdown(review.author)} reviewed the request at ${at}.\nResolution: ${reviewStateEmoji(state)} ${state}.\n`;
  if (review.reason) text += `Reason: ${fenced(review.reason)}.`;
  return text;
}

/** The requester's direct message once the request is resolved (not in the Go daemon). */
export function requesterNotice(view: RequestView): string {
  let text = requesterNoticeText(view.id, view.status);
  if (view.resolveReason) text += `\n**Resolution reason**: ${fenced(view.resolveReason)}`;
  return text;
}

/** `validate --send-test`. */
export function testPost(pluginName: string): string {
  return `Test message from teleport-${pluginName}: access requests routed to this conversation will appear here.`;
}
