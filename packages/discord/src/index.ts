// teleport-discord: the Discord channel of the access-request plugins.
import { defineChannel } from '@tap/core';
import { type DiscordSection, parseDiscordConfig } from './config.js';
import { DiscordMessenger } from './discord-messenger.js';
import { EXAMPLE_CONFIG } from './example-config.js';

export const DISCORD_PLUGIN_VERSION = '0.1.0';

export const discord = defineChannel<DiscordSection>({
  name: 'discord',
  displayName: 'Discord',
  version: DISCORD_PLUGIN_VERSION,
  exampleConfig: EXAMPLE_CONFIG,
  sections: ['discord'],
  parseConfig: parseDiscordConfig,
  handlerTimeoutMs: 5_000,
  createMessenger: (section, context) => new DiscordMessenger(section, context),
});

export { DEFAULT_API_URL, type DiscordSection, parseDiscordConfig } from './config.js';
export { DiscordApi, DiscordApiError, type DiscordApiOptions, routeOf } from './discord-api.js';
export { DiscordMessenger, type DiscordMessengerOptions } from './discord-messenger.js';
export { escapeDiscord, escapeDiscordCode } from './escape.js';
export { type DiscordEmbed, type DiscordMessageBody, LIMITS, fit, requestMessage, reviewEmbed, testMessage } from './format.js';
