// teleport-email: the email channel (SMTP or Mailgun) of the access-request plugins.
import { defineChannel, threadCodec } from '@tap/core';
import { type EmailSection, adjustEmailRecipients, parseEmailConfig } from './config.js';
import { EmailMessenger } from './email-messenger.js';
import { EXAMPLE_CONFIG } from './example-config.js';
import { validateCommand } from './validate-command.js';

export const EMAIL_PLUGIN_VERSION = '0.1.0';

export const email = defineChannel<EmailSection>({
  name: 'email',
  displayName: 'Email',
  version: EMAIL_PLUGIN_VERSION,
  exampleConfig: EXAMPLE_CONFIG,
  sections: ['smtp', 'mailgun', 'delivery'],
  parseConfig: parseEmailConfig,
  // Email's own texts (no trailing period) and the email check of every recipient.
  recipients: { requireWildcard: false, adjust: adjustEmailRecipients },
  pluginData: { codec: threadCodec, keys: 'minimal' },
  handlerTimeoutMs: 15_000,
  createMessenger: (section, context) => new EmailMessenger(section, context),
  commands: [validateCommand],
});

export { type EmailSection, MAILGUN_EU, MAILGUN_US, type MailgunSection, type SmtpSection, type StartTlsPolicy, adjustEmailRecipients, parseEmailConfig } from './config.js';
export { EmailMessenger, type EmailMessengerOptions, createTransport } from './email-messenger.js';
export { type MailContent, escapeHtml, newRequestMail, requesterMail, resolutionMail, reviewMail, subject, testMail } from './format.js';
export { MailgunTransport } from './mailgun-transport.js';
export { SmtpTransport, newMessageId } from './smtp-transport.js';
export type { MailTransport, OutgoingMail, TransportOptions } from './transport.js';
