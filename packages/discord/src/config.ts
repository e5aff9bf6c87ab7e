/**
 * The `[discord]` section (Teleport's keys): `token` (required; the bot token, or an absolute
 * path to a file holding it) and `apiurl` (the REST base; `api_url` is accepted too, which the
 * Go daemon silently ignored). `recipients` is parsed by Go but unused: warned and ignored.
 */
import type { ConfigReader } from '@tap/core';

export const DEFAULT_API_URL = 'https://discord.com/api/';

export interface DiscordSection {
  /** Bot token. Never logged. */
  token: string;
  /** REST base URL, always ending in `/`. */
  apiUrl: string;
}

export function parseDiscordConfig(reader: ConfigReader): DiscordSection {
  const token = reader.string('discord.token', { required: true, requiredMessage: 'missing required value discord.token', secret: true }) ?? '';
  if (/^Bot\s/i.test(token)) reader.error('discord.token', 'give the token alone, without the "Bot " prefix');
  const apiUrl = readApiUrl(reader);
  if (reader.has('discord.recipients')) {
    reader.stringList('discord.recipients');
    reader.warn('discord.recipients', 'ignored; list Discord channel IDs in [role_to_recipients]');
  }
  return { token, apiUrl };
}

function readApiUrl(reader: ConfigReader): string {
  const keys = ['discord.apiurl', 'discord.APIURL', 'discord.api_url'].filter((k) => reader.has(k));
  for (const k of keys.slice(1)) reader.warn(k, `ignored: ${keys[0]} is also set`);
  const key = keys[0] ?? 'discord.apiurl';
  const value = reader.string(key, { default: DEFAULT_API_URL }) ?? DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    reader.error(key, `"${value}" is not a URL (expected e.g. ${DEFAULT_API_URL})`);
    return DEFAULT_API_URL;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    reader.error(key, `"${value}" must be an http(s) URL`);
    return DEFAULT_API_URL;
  }
  return value.endsWith('/') ? value : `${value}/`;
}
