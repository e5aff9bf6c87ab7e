// Teleport's email suite scenarios, against the sandbox Auth server and a real SMTP server.
import { describeChannelConformance } from '@tap/core/testing';
import { email, type EmailSection } from '@tap/email';
import { TestSmtpServer } from '../src/testing/test-smtp-server.js';

const bare = (id: string) => id.replace(/^<|>$/g, '');

describeChannelConformance<EmailSection, TestSmtpServer>(email, {
  startFake: () => TestSmtpServer.start(),
  stopFake: (server) => server.close(),
  configSection: (server) => ({
    transport: { kind: 'smtp', smtp: { host: server.host, port: server.port, username: 'plugin', password: 'secret', starttlsPolicy: 'mandatory', implicitTls: false, caPem: server.caPem } },
    sender: 'noreply@example.com',
    deliveryRecipients: [],
  }),
  recipients: { editor: ['editors@example.com', 'lead@example.com'], '*': ['all@example.com'] },
  messagesTo: (server, name) => server.mailsTo(name).filter((m) => !m.inReplyTo).map((m) => ({ id: bare(m.messageId), text: `${m.subject}\n${m.text}` })),
  updatesOf: (server, id) => server.mails.filter((m) => m.inReplyTo === `<${id}>`).map((m) => ({ id: bare(m.messageId), text: m.text })),
  suggestedReviewers: ['reviewer1@example.com'],
  unknownRecipient: 'not-an-email',
});
