// Teleport's Mattermost suite scenarios, against the sandbox Auth server and the Mattermost fake.
import { describeChannelConformance } from '@tap/core/testing';
import { mattermost } from '@tap/mattermost';
import { FakeMattermost, type FakeMattermostPost } from '../src/testing/fake-mattermost.js';

const shown = (p: FakeMattermostPost) => ({ id: p.id, text: p.message });

describeChannelConformance(mattermost, {
  startFake: async () => {
    const fake = await FakeMattermost.start();
    fake.addChannel('team-llama/channel-llama');
    for (const email of ['requester@example.com', 'requester-threshold@example.com', 'reviewer1@example.com', 'reviewer2@example.com', 'lead@example.com']) fake.addUser(email);
    return fake;
  },
  stopFake: (fake) => fake.close(),
  configSection: (fake) => ({ url: fake.url, token: fake.token, recipients: [] }),
  recipients: { editor: ['team-llama/channel-llama', 'lead@example.com'], '*': ['fallback'] },
  messagesTo: (fake, name) => fake.postsIn(name).map(shown),
  updatesOf: (fake, id) => (fake.post(id)?.edits ?? []).map((text) => ({ id, text })),
  repliesTo: (fake, id) => fake.repliesTo(id).map(shown),
  suggestedReviewers: ['reviewer2@example.com'],
  unknownRecipient: 'nobody@example.com',
});
