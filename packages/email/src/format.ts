/**
 * Email texts, as the Go daemon writes them (plain text), plus an HTML alternative in which
 * every requester-controlled value is HTML-escaped. One subject for every mail of a request,
 * so mail clients thread them even without the References header.
 */
import { type RequestView, type ReviewView, formatRfc822, requesterNoticeText, reviewStateEmoji, statusDisplay } from '@tap/core';

export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function subject(view: RequestView): string {
  return `${view.clusterName} Role Request ${view.id}`;
}

type Line = { label: string; value: string; href?: string };

function fields(view: RequestView): Line[] {
  const lines: Line[] = [{ label: 'ID', value: view.id }, { label: 'Cluster', value: view.clusterName }];
  if (view.user) lines.push({ label: 'User', value: view.user });
  if (view.roles.length) lines.push({ label: 'Role(s)', value: view.roles.join(',') });
  if (view.resources.length) lines.push({ label: 'Resource(s)', value: view.resources.join(',') });
  if (view.requestReason) lines.push({ label: 'Reason', value: view.requestReason });
  if (view.link) lines.push({ label: 'Link', value: view.link, href: view.link });
  else if (view.status === 'PENDING') {
    lines.push({ label: 'Approve', value: `tsh request review --approve ${view.id}` }, { label: 'Deny', value: `tsh request review --deny ${view.id}` });
  }
  return lines;
}

function status(view: RequestView): string {
  return `${statusDisplay(view.status)}${view.resolveReason ? ` (${view.resolveReason})` : ''}`;
}

function render(heading: string, view: RequestView): MailContent {
  const lines = fields(view);
  const text = `${heading}:\n\n${lines.map((l) => `${l.label}: ${l.value}\n`).join('')}\nStatus: ${status(view)}`;
  const rows = lines
    .map((l) => `<tr><td><b>${l.label}</b></td><td>${l.href ? `<a href="${escapeHtml(l.href)}">${escapeHtml(l.value)}</a>` : escapeHtml(l.value)}</td></tr>`)
    .join('');
  const html = `<p>${escapeHtml(heading)}:</p><table>${rows}</table><p><b>Status</b>: ${escapeHtml(status(view))}</p>`;
  return { subject: subject(view), text, html };
}

/** The first mail of a thread. */
export function newRequestMail(view: RequestView): MailContent {
  return render('You have a new Role Request', view);
}

/** The last mail of a thread: approved, denied, promoted or expired. */
export function resolutionMail(view: RequestView): MailContent {
  return render('Role Request has been resolved', view);
}

/** A review, as a reply in the thread (Go's template: the reason line only when there is one). */
export function reviewMail(view: RequestView, review: ReviewView): MailContent {
  const at = formatRfc822(review.created ?? new Date(0));
  const state = review.proposedState;
  const head = `${review.author} reviewed the request at ${at}.\nResolution: ${reviewStateEmoji(state)} ${state}.\n`;
  const text = head + (review.reason ? `Reason: ${review.reason}.` : '');
  const html = `<p>${escapeHtml(head).replace(/\n/g, '<br>')}${review.reason ? `Reason: ${escapeHtml(review.reason)}.` : ''}</p>`;
  return { subject: subject(view), text, html };
}

/** The requester's own mail with the outcome. */
export function requesterMail(view: RequestView): MailContent {
  const text = `${requesterNoticeText(view.id, view.status)}${view.resolveReason ? `\nReason: ${view.resolveReason}` : ''}${view.link ? `\nLink: ${view.link}` : ''}`;
  return { subject: subject(view), text, html: `<p>${escapeHtml(text).replace(/\n/g, '<br>')}</p>` };
}

/** `validate --send-test`. */
export function testMail(pluginName: string): MailContent {
  const text = `Test message from teleport-${pluginName}: access requests routed to this address will arrive like this one.`;
  return { subject: `teleport-${pluginName} test message`, text, html: `<p>${escapeHtml(text)}</p>` };
}
