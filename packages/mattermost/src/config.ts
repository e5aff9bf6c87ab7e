/**
 * The `[mattermost]` section (Teleport's keys): `url` (the server, scheme and host, optionally
 * a sub-path), `token` (required; a bot access token, or an absolute path to a file holding
 * it) and `recipients` (optional; emails and `team/channel` names that, when non-empty,
 * replace `[role_to_recipients]` with `{"*": recipients}` as the Go daemon does).
 */
import type { ConfigReader, RecipientsMap } from '@tap/core';
import { isEmail } from '@tap/core';

export interface MattermostSection {
  /** Server base URL without a trailing `/`, e.g. `https://mattermost.example.com`. */
  url: string;
  /** Bot access token. Never logged. */
  token: string;
  /** `[mattermost] recipients`, as written (empty when absent). */
  recipients: string[];
}

const EXAMPLE_URL = 'https://mattermost.example.com';

export function parseMattermostConfig(reader: ConfigReader): MattermostSection {
  // Go checks the token before the url; the messages keep its order.
  const token = reader.string('mattermost.token', { required: true, secret: true }) ?? '';
  const url = readUrl(reader);
  const recipients = reader.stringList('mattermost.recipients') ?? [];
  recipients.forEach((name, i) => warnIfUnusable(reader, `mattermost.recipients[${i}]`, name));
  return { url, token, recipients };
}

function readUrl(reader: ConfigReader): string {
  const value = reader.string('mattermost.url', { required: true });
  if (!value) return '';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    reader.error('mattermost.url', `"${value}" is not a URL: give the scheme and host, e.g. ${EXAMPLE_URL}`);
    return '';
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !url.host) {
    reader.error('mattermost.url', `"${value}" must be an http(s) URL with a host, e.g. ${EXAMPLE_URL}`);
    return '';
  }
  // Go joins `<url>` and `/api/v4/...`, so a sub-path (https://example.com/mattermost) works.
  return value.replace(/\/+$/, '');
}

/** True when the plugin can resolve the name: an email or exactly one `/` (`team/channel`). */
export function isRecipientName(name: string): boolean {
  return isEmail(name) || name.split('/').length === 2;
}

function warnIfUnusable(reader: ConfigReader, key: string, name: string): void {
  // A warning, not an error: the Go daemon starts with such an entry and skips it at run time.
  if (!isRecipientName(name)) {
    reader.warn(key, `"${name}" is neither an email nor "team/channel"; it will be skipped (Recipient must be either a user email or a channel in the format "team/channel")`);
  }
}

/**
 * `[mattermost] recipients`, when non-empty, replaces the whole `role_to_recipients` map (Go's
 * `CheckAndSetDefaults`). No `"*"` is required: with no match, only suggested reviewers are told.
 */
export function adjustMattermostRecipients(map: RecipientsMap, section: MattermostSection, reader: ConfigReader): RecipientsMap {
  if (section.recipients.length > 0) {
    if (Object.keys(map).length > 0) {
      reader.warn('role_to_recipients', 'ignored: [mattermost] recipients is set and replaces it (as in the Go plugin)');
    }
    return { '*': [...section.recipients] };
  }
  for (const [role, names] of Object.entries(map)) names.forEach((name) => warnIfUnusable(reader, `role_to_recipients.${JSON.stringify(role)}`, name));
  return map;
}
