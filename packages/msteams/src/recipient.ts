/**
 * Teams recipients, classified as Go does: a channel URL (`https://teams.microsoft.com/l/channel/
 * <thread>/<name>?groupId=…&tenantId=…`), an email (looked up by `mail`), or else an Entra
 * (Azure AD) user object ID.
 */
import { isEmail } from '@tap/core';

export interface ChannelRef {
  /** The conversation (thread) id, e.g. `19:…@thread.tacv2`. */
  chatId: string;
  /** Channel name as it appears in the URL (still single-encoded, as Go keeps it). */
  name: string;
  group: string;
  tenant: string;
  url: string;
}

/** A channel URL's parts, or undefined when `raw` is not one. */
export function parseChannelUrl(raw: string): ChannelRef | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  const tenant = url.searchParams.get('tenantId');
  const group = url.searchParams.get('groupId');
  if (!tenant || !group) return undefined;
  let parts: string[];
  try {
    parts = url.pathname.split('/').map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
  if (parts.length !== 5 || parts[1] !== 'l' || parts[2] !== 'channel') return undefined;
  return { chatId: parts[3]!, name: parts[4]!, group, tenant, url: raw };
}

export type RecipientKind = { kind: 'channel'; channel: ChannelRef } | { kind: 'email'; email: string } | { kind: 'user-id'; id: string };

export function classifyRecipient(raw: string): RecipientKind {
  const channel = parseChannelUrl(raw);
  if (channel) return { kind: 'channel', channel };
  if (isEmail(raw)) return { kind: 'email', email: raw };
  return { kind: 'user-id', id: raw };
}
