/**
 * The `[discord]` section (Teleport's keys): `token` (required; the bot token, or an absolute
 * path to a file holding it) and `apiurl` (the REST base; `api_url` is accepted too, which the
 * Go daemon silently ignored). `recipients` is parsed by Go but unused: warned and ignored.
 */
import { type ConfigReader, readApiUrl } from '@tap/core';

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
  const apiUrl = readApiUrl(reader, ['discord.apiurl', 'discord.APIURL', 'discord.api_url'], DEFAULT_API_URL);
  if (reader.has('discord.recipients')) {
    reader.stringList('discord.recipients');
    reader.warn('discord.recipients', 'ignored; list Discord channel IDs in [role_to_recipients]');
  }
  return { token, apiUrl };
}
