// Teleport's Slack suite scenarios, against the sandbox Auth server and the Slack fake.
import { describeChannelConformance } from '@tap/core/testing';
import { slack } from '@tap/slack';
import { FakeSlack, flatten } from '../src/testing/fake-slack.js';

const text = (m: { text: string; blocks: unknown[] }) => flatten(m.text, m.blocks);

describeChannelConformance(slack, {
  startFake: async () => {
    const fake = await FakeSlack.start();
    fake.addChannel('editors');
    fake.addChannel('fallback');
    for (const email of ['requester@example.com', 'requester-threshold@example.com', 'reviewer1@example.com', 'reviewer2@example.com', 'lead@example.com']) fake.addUser(email);
    return fake;
  },
  stopFake: (fake) => fake.close(),
  configSection: (fake) => ({ token: fake.token, apiUrl: fake.url }),
  recipients: { editor: ['#editors', 'lead@example.com'], '*': ['#fallback'] },
  messagesTo: (fake, name) => fake.messagesTo(name).map((m) => ({ id: m.ts, text: text(m) })),
  updatesOf: (fake, ts) => (fake.message(ts)?.edits ?? []).map((e) => ({ id: ts, text: text(e) })),
  repliesTo: (fake, ts) => fake.repliesTo(ts).map((m) => ({ id: m.ts, text: text(m) })),
  suggestedReviewers: ['reviewer1@example.com'],
  unknownRecipient: 'nobody@example.com',
  requesterGetsMessage: true,
  users: { requester: 'requester@example.com' },
});
