// Teleport's Discord suite scenarios, against the sandbox Auth server and the Discord fake.
import { describeChannelConformance } from '@tap/core/testing';
import { discord } from '@tap/discord';
import { FakeDiscord, type FakeDiscordMessage } from '../src/testing/fake-discord.js';

const shown = (m: { content: string; embeds: FakeDiscordMessage['embeds'] }) => `${m.content}\n${JSON.stringify(m.embeds)}`;

describeChannelConformance(discord, {
  startFake: async () => {
    const fake = await FakeDiscord.start();
    fake.addChannel('editors', { id: '1001' });
    fake.addChannel('editors-2', { id: '1002' });
    fake.addChannel('fallback', { id: '1999' });
    return fake;
  },
  stopFake: (fake) => fake.close(),
  configSection: (fake) => ({ token: fake.token, apiUrl: fake.url }),
  recipients: { editor: ['1001', '1002'], '*': ['1999'] },
  messagesTo: (fake, name) => fake.messagesIn(name).map((m) => ({ id: m.id, text: shown(m) })),
  updatesOf: (fake, id) => (fake.message(id)?.edits ?? []).map((e) => ({ id, text: shown(e) })),
  unknownRecipient: '4242',
});
