// Teleport's Teams suite scenarios, against the sandbox Auth server and the Teams fake.
import { describeChannelConformance } from '@tap/core/testing';
import { msteams } from '@tap/msteams';
import { FakeMsTeams, cardText } from '../src/testing/fake-msteams.js';

const users = ['requester@example.com', 'requester-threshold@example.com', 'reviewer1@example.com', 'reviewer2@example.com', 'lead@example.com', 'all@example.com'];

describeChannelConformance(msteams, {
  startFake: async () => {
    const fake = await FakeMsTeams.start();
    for (const mail of users) fake.addUser(mail);
    return fake;
  },
  stopFake: (fake) => fake.close(),
  configSection: (fake) => fake.section(),
  recipients: { editor: ['lead@example.com', 'all@example.com'], '*': ['all@example.com'] },
  messagesTo: (fake, name) => fake.activitiesTo(name).map((a) => ({ id: a.id, text: cardText(a.card) })),
  updatesOf: (fake, id) => (fake.activity(id)?.edits ?? []).map((card) => ({ id, text: cardText(card) })),
  suggestedReviewers: ['reviewer1@example.com'],
  unknownRecipient: 'nobody@example.com',
});
