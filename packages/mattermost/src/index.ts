// teleport-mattermost: the Mattermost channel of the access-request plugins.
import { defineChannel } from '@tap/core';
import { type MattermostSection, adjustMattermostRecipients, parseMattermostConfig } from './config.js';
import { EXAMPLE_CONFIG } from './example-config.js';
import { MattermostMessenger } from './mattermost-messenger.js';
import { mattermostMessageCodec } from './plugin-data.js';

export const MATTERMOST_PLUGIN_VERSION = '0.1.0';

export const mattermost = defineChannel<MattermostSection>({
  name: 'mattermost',
  displayName: 'Mattermost',
  version: MATTERMOST_PLUGIN_VERSION,
  exampleConfig: EXAMPLE_CONFIG,
  sections: ['mattermost'],
  parseConfig: parseMattermostConfig,
  // No "*" needed: with no match only suggested reviewers are told (or, with none, the core logs "No channel to post").
  recipients: { requireWildcard: false, adjust: adjustMattermostRecipients },
  pluginData: { codec: mattermostMessageCodec },
  handlerTimeoutMs: 5_000,
  createMessenger: (section, context) => new MattermostMessenger(section, context),
});

export { type MattermostSection, adjustMattermostRecipients, isRecipientName, parseMattermostConfig } from './config.js';
export { defuseMentions, escapeMarkdown } from './escape.js';
export { MATTERMOST_REASON_LIMIT, requestPost, requesterNotice, reviewComment, testPost } from './format.js';
export { MattermostApi, MattermostApiError, type MattermostApiOptions, type MattermostErrorBody } from './mattermost-api.js';
export { MattermostMessenger, type MattermostMessengerOptions } from './mattermost-messenger.js';
export { mattermostMessageCodec } from './plugin-data.js';
