/**
 * Block Kit rendering of a request, as the Go daemon lays it out: a title section, a section
 * with the fields and a context block with the status, plus a short `text` that Slack shows in
 * notifications and screen readers. Requester text is escaped with `escapeMrkdwn`.
 */
import { type RequestView, type ReviewView, requestFields, requesterNoticeText, requestTitle, reviewText, statusDisplay, statusText } from '@tap/core';
import { escapeMrkdwn } from './escape.js';

export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
}
export type SlackBlock = { type: 'section'; text: MrkdwnText } | { type: 'context'; elements: MrkdwnText[] };

/** What chat.postMessage / chat.update receive besides the channel. */
export interface SlackMessageBody {
  blocks: SlackBlock[];
  text: string;
}

/** Slack refuses text objects longer than this. */
export const TEXT_OBJECT_LIMIT = 3000;
const TRUNCATED = ' (truncated)';

const escaping = { escape: escapeMrkdwn };
const mrkdwn = (text: string): MrkdwnText => ({ type: 'mrkdwn', text });
const section = (text: string): SlackBlock => ({ type: 'section', text: mrkdwn(text) });

/**
 * Keeps a text object within Slack's limit: over 3000 bytes it is cut to 2988 bytes (never
 * inside a character) followed by ` (truncated)`.
 */
export function fitTextObject(text: string): string {
  if (Buffer.byteLength(text) <= TEXT_OBJECT_LIMIT) return text;
  const budget = TEXT_OBJECT_LIMIT - TRUNCATED.length;
  let used = 0;
  let out = '';
  for (const char of text) {
    used += Buffer.byteLength(char);
    if (used > budget) break;
    out += char;
  }
  return out + TRUNCATED;
}

/** The request message (new post and every redraw). */
export function requestMessage(view: RequestView): SlackMessageBody {
  const title = requestTitle(view.kind);
  return {
    blocks: [
      section(title),
      section(fitTextObject(requestFields(view, escaping))),
      { type: 'context', elements: [mrkdwn(fitTextObject(statusText(view.status, view.resolveReason, escaping)))] },
    ],
    text: `${title.replace(/:$/, '')} from ${escapeMrkdwn(view.user || 'unknown user')}: ${statusDisplay(view.status)}`,
  };
}

/** A review as a thread reply (plain `text`, as the Go daemon posts it). */
export function reviewReply(review: ReviewView): { text: string } {
  return { text: fitTextObject(reviewText(review, escaping)) };
}

/** The requester's direct message once the request is resolved. */
export function requesterNotice(view: RequestView): SlackMessageBody {
  const text = requesterNoticeText(escapeMrkdwn(view.id), view.status);
  return { blocks: [section(text)], text };
}

/** `validate --send-test`. */
export function testMessage(pluginName: string): { text: string } {
  return { text: `Test message from teleport-${pluginName}: access requests routed to this conversation will appear here.` };
}
