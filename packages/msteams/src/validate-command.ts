/**
 * `teleport-msteams validate [-c PATH] <recipient>` and `uninstall [-c PATH]`, with the Go
 * daemon's lines: find the app in the org catalog, resolve the recipient (installing the app
 * for a user), show the chat, then post a greeting card and a sample request card.
 */
import { randomUUID } from 'node:crypto';
import { type ChannelCommand, type ChannelContext, type PluginConfig, type RequestView, isEmail } from '@tap/core';
import { buildCard, helloCard } from './card.js';
import type { MsTeamsSection } from './config.js';
import { MsApiError } from './msapi.js';
import { MsTeamsMessenger, type TeamsTarget } from './msteams-messenger.js';
import { classifyRecipient } from './recipient.js';

async function setup(options: Record<string, unknown>, context: Parameters<ChannelCommand<MsTeamsSection>['run']>[2]) {
  const path = (options.config as string | undefined) ?? context.defaultConfigPath;
  const config: PluginConfig<MsTeamsSection> = await context.loadConfig(path);
  const log = context.createLogger({ ...config, log: { ...config.log, output: 'stderr', severity: 'error' } });
  const ctx: ChannelContext = { pluginName: 'msteams', clusterName: 'local', log };
  return { config, messenger: new MsTeamsMessenger(config.section, ctx) };
}

export const validateCommand: ChannelCommand<MsTeamsSection> = {
  name: 'validate',
  description: 'Validate bot installation',
  define(command) {
    command.option('-c, --config <path>', 'TOML config file path').argument('<recipient>', 'UserID, email or channel to notify');
  },
  async run(args, options, context) {
    const out = (line = '') => context.io.stdout.write(`${line}\n`);
    const { config, messenger } = await setup(options, context);
    const signal = AbortSignal.timeout(60_000);
    out(` - Checking application ${config.section.teamsAppId} status...`);
    let catalogId: string;
    try {
      catalogId = (await messenger.api.teamsApp(signal)).id;
    } catch (err) {
      if (err instanceof MsApiError && err.msCode === 'NotFound') {
        out(`Application ${config.section.teamsAppId} not found in the org app store. Please, ensure that you have the application uploaded and installed for your team.`);
        return 1;
      }
      out(`   Failed: ${(err as Error).message}`);
      return 1;
    }
    out(` - Application found in the team app store (internal ID: ${catalogId})`);
    let recipient = args[0]!;
    if (isEmail(recipient)) {
      try {
        const id = await messenger.api.userIdByEmail(recipient, signal);
        out(` - User ${recipient} found: ${id}`);
        recipient = id;
      } catch (err) {
        if (err instanceof MsApiError && err.msCode === 'NotFound') {
          out(` - User ${recipient} not found! Try to use user ID instead`);
          return 1;
        }
        out(`   Failed: ${(err as Error).message}`);
        return 1;
      }
    }
    try {
      const r = await messenger.resolveRecipient(recipient, signal);
      const target = r.data as TeamsTarget;
      out(` - Application installation ID for recipient: ${target.installationId}`);
      out(` - Chat ID for recipient: ${target.conversationId}`);
      out(` - Chat web URL: ${target.webUrl ?? ''}`);
      out(' - Sending the message...');
      const id = await messenger.sendTest(r, signal);
      out(` - Message sent, ID: ${id}`);
      const sample: RequestView = {
        id: randomUUID(),
        clusterName: 'local-cluster',
        user: 'foo',
        roles: ['editor'],
        resources: [],
        requestReason: "Example request posted by 'validate' command.",
        kind: 'role',
        requestKind: 'SHORT_TERM' as RequestView['requestKind'],
        suggestedReviewers: [],
        status: 'PENDING',
        resolveReason: '',
        reviews: [
          { author: 'bar', proposedState: 'APPROVED', reason: 'Looks fine', created: new Date() },
          { author: 'baz', proposedState: 'DENIED', reason: 'Not good', created: new Date() },
        ],
      };
      await messenger.api.postActivity(target.conversationId, { type: 'message', from: { id: `29:${target.installationId}`, name: 'TeleBot' }, attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: buildCard(sample) }] }, signal);
    } catch (err) {
      out(`   Failed: ${(err as Error).message}`);
      return 1;
    }
    void helloCard;
    out();
    out('Check your MS Teams!');
    return 0;
  },
};

export const uninstallCommand: ChannelCommand<MsTeamsSection> = {
  name: 'uninstall',
  description: 'Uninstall the application for all teams user.',
  define(command) {
    command.option('-c, --config <path>', 'TOML config file path');
  },
  async run(_args, options, context) {
    const out = (line = '') => context.io.stdout.write(`${line}\n`);
    const { config, messenger } = await setup(options, context);
    const signal = AbortSignal.timeout(120_000);
    out(` - Checking application ${config.section.teamsAppId} status...`);
    const catalogId = (await messenger.api.teamsApp(signal)).id;
    out(` - Application found in the team app store (internal ID: ${catalogId})`);
    const errors: string[] = [];
    for (const raw of new Set(Object.values(config.roleToRecipients).flat())) {
      const kind = classifyRecipient(raw);
      if (kind.kind === 'channel') continue;
      try {
        const userId = kind.kind === 'email' ? await messenger.api.userIdByEmail(kind.email, signal) : await messenger.api.userById(kind.id, signal);
        const installation = await messenger.api.userInstallation(userId, catalogId, signal);
        if (!installation) continue;
        await messenger.api.uninstallForUser(userId, installation.id, signal);
        out(` - Uninstalled for ${raw}`);
      } catch (err) {
        errors.push(`${raw}: ${(err as Error).message}`);
      }
    }
    if (errors.length) {
      out('The following error(s) happened when uninstalling the Teams App:');
      for (const e of errors) out(`   ${e}`);
      return 1;
    }
    out('Successfully uninstalled app for all recipients');
    return 0;
  },
};
