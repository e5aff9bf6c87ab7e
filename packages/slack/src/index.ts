// teleport-slack: the Slack channel of the access-request plugins.
import { defineChannel } from '@tap/core';
import { type SlackSection, parseSlackConfig } from './config.js';
import { EXAMPLE_CONFIG } from './example-config.js';
import { SlackMessenger } from './slack-messenger.js';

export const SLACK_PLUGIN_VERSION = '0.1.0';

export const slack = defineChannel<SlackSection>({
  name: 'slack',
  displayName: 'Slack',
  version: SLACK_PLUGIN_VERSION,
  exampleConfig: EXAMPLE_CONFIG,
  sections: ['slack', 'review'],
  parseConfig: parseSlackConfig,
  // The Go daemon also posts the request to the requester (found by email).
  alsoSendToRequester: true,
  handlerTimeoutMs: 5_000,
  createMessenger: (section, context) => new SlackMessenger(section, context),
});

export { DEFAULT_API_URL, type SlackSection, parseSlackConfig } from './config.js';
export { escapeMrkdwn } from './escape.js';
export { type SlackBlock, type SlackMessageBody, fitTextObject, requestMessage, requesterNotice, reviewReply } from './format.js';
export { SlackMessenger, type SlackMessengerOptions } from './slack-messenger.js';
