/**
 * The `[slack]` section (Teleport's keys): `token` (required; a bot token, or an absolute path
 * to a file holding it) and `apiurl` (the Web API base, for tests and proxies; `api_url` is
 * accepted too, which the Go daemon silently ignored).
 */
import { type ConfigReader, readApiUrl } from '@tap/core';

export const DEFAULT_API_URL = 'https://slack.com/api/';

export interface SlackSection {
  /** Bot User OAuth Token (`xoxb-…`). Never logged. */
  token: string;
  /** Web API base URL, always ending in `/`. */
  apiUrl: string;
}

export function parseSlackConfig(reader: ConfigReader): SlackSection {
  const token = reader.string('slack.token', { required: true, secret: true }) ?? '';
  if (token.startsWith('xapp-')) {
    reader.error('slack.token', 'this is an app-level token (xapp-…); use the Bot User OAuth Token (xoxb-…) from "OAuth & Permissions"');
  }
  const apiUrl = readApiUrl(reader, ['slack.apiurl', 'slack.APIURL', 'slack.api_url'], DEFAULT_API_URL);
  // Parsed but unused by the Go daemon since the move to role_to_recipients.
  if (reader.has('slack.recipients')) {
    reader.stringList('slack.recipients');
    reader.warn('slack.recipients', 'deprecated and ignored; list recipients in [role_to_recipients]');
  }
  // The Go daemon's newest native review (Socket Mode buttons) is not part of this plugin.
  for (const key of ['enabled', 'app_token', 'slack_user_id_trait', 'allow_email_username_match']) reader.accept(`review.${key}`);
  if (reader.has('review.enabled') && reader.boolean('review.enabled')) {
    reader.warn('review.enabled', 'reviewing from Slack (Socket Mode buttons) is not supported; reviewers use the link or tsh');
  }
  return { token, apiUrl };
}
