// The demo's per-channel adapters: how to start each service's local stand-in, the channel's
// TOML section pointing at it, and how to tell that the request was posted and resolved.
// Each fake is the one the channel's tests use (packages/<x>/src/testing, built to dist).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const testing = (name) => import(pathToFileURL(join(ROOT, `packages/${name}/dist/testing/index.js`)).href);

export const CHANNELS = {
  slack: {
    service: 'Slack',
    async startFake() {
      const { FakeSlack } = await testing('slack');
      const fake = await FakeSlack.start();
      fake.addChannel('access-requests');
      fake.addUser('alice@example.com');
      fake.addUser('bob@example.com');
      return fake;
    },
    config: (fake) => `[slack]\ntoken = "${fake.token}"\napiurl = "${fake.url}"\n\n[role_to_recipients]\n"*" = "access-requests"\n`,
    posted: (fake) => fake.messagesTo('#access-requests').length,
    resolved: (fake) => fake.messagesTo('#access-requests').some((m) => m.reactions.length > 0),
  },
  mattermost: {
    service: 'Mattermost',
    async startFake() {
      const { FakeMattermost } = await testing('mattermost');
      const fake = await FakeMattermost.start();
      fake.addChannel('ops/access-requests');
      fake.addUser('alice@example.com');
      fake.addUser('bob@example.com');
      return fake;
    },
    config: (fake) => `[mattermost]\nurl = "${fake.url}"\ntoken = "${fake.token}"\nrecipients = ["ops/access-requests"]\n`,
    posted: (fake) => fake.postsIn('ops/access-requests').length,
    resolved: (fake) => fake.postsIn('ops/access-requests').some((p) => p.edits.some((e) => e.includes('APPROVED'))),
  },
  discord: {
    service: 'Discord',
    async startFake() {
      const { FakeDiscord } = await testing('discord');
      const fake = await FakeDiscord.start();
      fake.addChannel('access-requests', { id: '1234567890' });
      return fake;
    },
    config: (fake) => `[discord]\ntoken = "${fake.token}"\napiurl = "${fake.url}"\n\n[role_to_recipients]\n"*" = "1234567890"\n`,
    posted: (fake) => fake.messagesIn('1234567890').length,
    resolved: (fake) => fake.messagesIn('1234567890').some((m) => m.content.includes('APPROVED')),
  },
  email: {
    service: 'SMTP',
    async startFake(dir) {
      const { TestSmtpServer } = await testing('email');
      const server = await TestSmtpServer.start();
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(dir, 'smtp-ca.pem'), server.caPem);
      server.caFile = join(dir, 'smtp-ca.pem');
      return server;
    },
    config: (s) =>
      `[smtp]\nhost = "${s.host}"\nport = ${s.port}\nusername = "plugin"\npassword = "secret"\nca_file = "${s.caFile}"\n\n[delivery]\nsender = "teleport@example.com"\n\n[role_to_recipients]\n"*" = "access-requests@example.com"\n`,
    posted: (s) => s.mailsTo('access-requests@example.com').length,
    resolved: (s) => s.mailsTo('access-requests@example.com').some((m) => m.text.includes('has been resolved')),
  },
  msteams: {
    service: 'Microsoft Teams',
    async startFake() {
      const { FakeMsTeams } = await testing('msteams');
      const fake = await FakeMsTeams.start();
      fake.addUser('alice@example.com');
      fake.addUser('bob@example.com');
      fake.channel = fake.addChannel('Access Requests');
      return fake;
    },
    config: (f) =>
      `preload = true\n\n[msapi]\napp_id = "${f.appId}"\napp_secret = "${f.appSecret}"\ntenant_id = "${f.tenantId}"\nteams_app_id = "${f.teamsAppId}"\nlogin_endpoint = "${f.url}"\ngraph_endpoint = "${f.graphUrl}"\nbot_endpoint = "${f.url}"\nca_file = "${f.caFile}"\n\n[role_to_recipients]\n"*" = ["${f.channel}"]\n`,
    posted: (f) => f.activitiesTo('Access Requests').length,
    resolved: (f) => f.activitiesTo('Access Requests').some((a) => a.edits.some((e) => JSON.stringify(e).includes('APPROVED'))),
  },
};
