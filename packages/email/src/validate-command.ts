/**
 * `teleport-email validate [-c PATH] [--send-test ADDRESS]`: loads the config, checks the
 * Teleport connection, dials the mail server step by step (connect, TLS, AUTH) or checks the
 * Mailgun domain and key, and can send a test mail. One line per step; exit 0 only if all pass.
 */
import type { ChannelCommand, PluginConfig } from '@tap/core';
import { isEmail } from '@tap/core';
import type { EmailSection } from './config.js';
import { createTransport } from './email-messenger.js';
import { testMail } from './format.js';

export const validateCommand: ChannelCommand<EmailSection> = {
  name: 'validate',
  description: 'Checks the config, the Teleport connection, the mail server (or Mailgun) and optionally sends a test mail.',
  define(command) {
    command.option('-c, --config <path>', 'TOML config file path').option('--send-test <address>', 'Also send a test mail to this address');
  },
  async run(_args, options, context) {
    const out = (line: string) => context.io.stdout.write(`${line}\n`);
    const path = (options.config as string | undefined) ?? context.defaultConfigPath;
    let failures = 0;
    out(` - Loading configuration ${path}...`);
    let config: PluginConfig<EmailSection>;
    try {
      config = await context.loadConfig(path);
    } catch (err) {
      out(` - Configuration is invalid: ${(err as Error).message}`);
      out('1 check(s) failed.');
      return 1;
    }
    for (const w of config.warnings) out(` - Warning: ${w}`);
    const log = context.createLogger({ ...config, log: { ...config.log, output: 'stderr', severity: 'error' } });
    out(` - Connecting to Teleport at ${config.teleport.addr}...`);
    try {
      const { client, ping } = await context.connectTeleport(config, log);
      client.close();
      out(`   Connected to cluster "${ping.clusterName}" (Teleport ${ping.serverVersion})`);
    } catch (err) {
      failures++;
      out(`   Failed: ${(err as Error).message}`);
    }
    const transport = createTransport(config.section, { pluginName: 'email', clusterName: '', log });
    out(` - Checking ${transport.describe()}...`);
    try {
      for (const step of await transport.check(AbortSignal.timeout(30_000))) out(`   OK: ${step}`);
    } catch (err) {
      failures++;
      out(`   Failed: ${(err as Error).message}`);
    }
    const sendTo = options.sendTest as string | undefined;
    if (sendTo !== undefined) {
      if (!isEmail(sendTo)) {
        failures++;
        out(` - Test mail: "${sendTo}" is not an email address`);
      } else {
        try {
          const id = await transport.send({ to: sendTo, ...testMail('email') }, AbortSignal.timeout(30_000));
          out(` - Test mail sent to ${sendTo}, Message-ID <${id}>`);
        } catch (err) {
          failures++;
          out(` - Test mail to ${sendTo} failed: ${(err as Error).message}`);
        }
      }
    }
    await transport.close?.();
    out(failures ? `${failures} check(s) failed.` : 'All checks passed.');
    return failures ? 1 : 0;
  },
};
