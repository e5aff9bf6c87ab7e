// teleport-msteams: the Microsoft Teams channel of the access-request plugins.
import { type RecipientsMap, defineChannel, encodedMessageCodec } from '@tap/core';
import { type MsTeamsSection, parseMsTeamsConfig } from './config.js';
import { configureCommand } from './configure-command.js';
import { MsTeamsMessenger } from './msteams-messenger.js';
import { uninstallCommand, validateCommand } from './validate-command.js';

export const MSTEAMS_PLUGIN_VERSION = '0.1.0';

type Section = MsTeamsSection & { preloadRecipients?: string[] };

export const msteams = defineChannel<Section>({
  name: 'msteams',
  displayName: 'MS Teams',
  version: MSTEAMS_PLUGIN_VERSION,
  exampleConfig: '',
  sections: ['msapi', 'preload'],
  parseConfig: parseMsTeamsConfig,
  recipients: {
    // `preload` resolves every configured recipient at start.
    adjust(map: RecipientsMap, section: Section) {
      section.preloadRecipients = [...new Set(Object.values(map).flat())];
      return map;
    },
  },
  pluginData: { codec: encodedMessageCodec },
  handlerTimeoutMs: 15_000,
  minServerVersion: '8.0.0',
  createMessenger: (section, context) => new MsTeamsMessenger(section, context),
  commands: [configureCommand, validateCommand, uninstallCommand],
});

export { type AdaptiveCard, buildCard, escapeCardText, goTimeString, helloCard } from './card.js';
export { BOT_ENDPOINT, GRAPH_ENDPOINT, LOGIN_ENDPOINT, type MsTeamsSection, parseMsTeamsConfig } from './config.js';
export { GUIDE_URL } from './configure-command.js';
export { ROLE_YAML, manifest, pluginToml, writeAppZip } from './app-package.js';
export { BOT_SCOPE, type BotActivity, GRAPH_SCOPE, MsApi, MsApiError, odataString } from './msapi.js';
export { MsTeamsMessenger, type TeamsTarget } from './msteams-messenger.js';
export { colorIcon, encodePng, outlineIcon } from './png.js';
export { type ChannelRef, classifyRecipient, parseChannelUrl } from './recipient.js';
