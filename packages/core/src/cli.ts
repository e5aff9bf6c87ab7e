/**
 * The `teleport-<x>` command line every channel shares: `configure`, `start`, `validate`,
 * `version`, `healthcheck`, plus a channel's own commands. Only this file decides exit codes:
 * 0 after success or a clean stop, 1 on any error (config problems, fatal plugin errors,
 * usage errors — kingpin's behaviour).
 */
import { Command, CommanderError } from 'commander';
import type { Logger } from 'pino';
import type { ChannelContext, ChannelDefinition } from './channel.js';
import type { CliCommandContext, CliIo } from './cli-types.js';
import { loadConfig } from './config.js';
import type { PluginConfig } from './config-types.js';
import { ConfigError, PluginError } from './errors.js';
import { probeReadiness, startHealthServer } from './http-server.js';
import { createLogger } from './log.js';
import { PluginMetrics } from './metrics.js';
import { createPlugin } from './plugin.js';
import { connectTeleport } from './teleport/connect.js';
import type { PingInfo } from './teleport/types.js';

export interface RunOptions {
  argv?: string[];
  io?: Partial<CliIo>;
  /** Aborting it stops a running `start` like SIGTERM does (tests). */
  stopSignal?: AbortSignal;
  /** Install SIGTERM/SIGINT handlers (default true outside tests). */
  handleSignals?: boolean;
}

/** `https://<proxy>` for links, only when the cluster reports AdvancedAccessWorkflows (as Go). */
export function webProxyUrl(ping: PingInfo | undefined): URL | undefined {
  if (!ping?.advancedAccessWorkflows || !ping.proxyPublicAddr) return undefined;
  const url = new URL(/^https?:\/\//.test(ping.proxyPublicAddr) ? ping.proxyPublicAddr : `https://${ping.proxyPublicAddr}`);
  if (url.protocol === 'https:' && url.port === '443') url.port = '';
  return url;
}

function versionLine(channel: ChannelDefinition<unknown>, env: Record<string, string | undefined>): string {
  const ref = env.TAP_GIT_REF || process.env.TAP_GIT_REF;
  return `teleport-${channel.name} v${channel.version}${ref ? ` git:${ref}` : ''} node ${process.version}\n`;
}

/** Runs the CLI and returns the exit code (bins: `process.exitCode = await runPluginCli(channel)`). */
export async function runPluginCli<Section>(channel: ChannelDefinition<Section>, options: RunOptions = {}): Promise<number> {
  const io: CliIo = {
    stdout: options.io?.stdout ?? process.stdout,
    stderr: options.io?.stderr ?? process.stderr,
    env: options.io?.env ?? process.env,
  };
  const name = `teleport-${channel.name}`;
  const defaultConfigPath = `/etc/${name}.toml`;
  const fail = (message: string) => {
    io.stderr.write(`${name}: ${message}\n`);
    return 1;
  };

  const context: CliCommandContext<Section> = {
    io,
    defaultConfigPath,
    loadConfig: async (path) => loadConfig(channel, path),
    createLogger: (config, o) => createLogger(config.log, { debug: o?.debug }),
    connectTeleport: async (config, log) => {
      const { client, ping } = await connectTeleport(config.teleport, { log, minServerVersion: channel.minServerVersion, env: io.env });
      return { client, ping };
    },
    createMessenger: (config, log, ping) => {
      const ctx: ChannelContext = { pluginName: channel.name, clusterName: ping?.clusterName ?? '', webProxyUrl: webProxyUrl(ping), log };
      return { messenger: channel.createMessenger(config.section, ctx), context: ctx };
    },
  };

  let exitCode = 0;
  const program = new Command(name)
    .description(`Teleport plugin for access requests approval via ${channel.displayName}.`)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  program
    .command('configure')
    .description('Prints an example .TOML configuration file.')
    .action(() => {
      io.stdout.write(channel.exampleConfig);
    });
  program
    .command('version')
    .description(`Prints ${name} version and exits.`)
    .action(() => {
      io.stdout.write(versionLine(channel as ChannelDefinition<unknown>, io.env));
    });
  program
    .command('start')
    .description(`Starts the Teleport ${channel.displayName} plugin.`)
    .option('-c, --config <path>', 'TOML config file path', defaultConfigPath)
    .option('-d, --debug', 'Enable verbose logging to stderr', false)
    .action(async (opts: { config: string; debug: boolean }) => {
      exitCode = await start(channel, context, opts, options, fail);
    });
  program
    .command('validate')
    .description('Checks the config, the Teleport connection, the channel credentials and every recipient.')
    .option('-c, --config <path>', 'TOML config file path', defaultConfigPath)
    .option('--send-test', 'Also post a test message to each recipient', false)
    .argument('[recipients...]', 'extra recipients to check')
    .action(async (extra: string[], opts: { config: string; sendTest: boolean }) => {
      exitCode = await validate(channel, context, opts.config, extra, opts.sendTest);
    });
  program
    .command('healthcheck')
    .description('Exits 0 when the running plugin reports ready on [http] listen_addr (container health checks).')
    .option('-c, --config <path>', 'TOML config file path', defaultConfigPath)
    .action(async (opts: { config: string }) => {
      const config = loadConfig(channel, opts.config);
      if (!config.http.listenAddr) {
        io.stdout.write('health endpoint disabled ([http] listen_addr not set); nothing to check\n');
        return;
      }
      const probe = await probeReadiness(config.http.listenAddr);
      io.stdout.write(`${probe.detail}\n`);
      exitCode = probe.ok ? 0 : 1;
    });

  for (const cmd of channel.commands ?? []) {
    const existing = program.commands.find((c) => c.name() === cmd.name);
    if (existing) (program as unknown as { commands: Command[] }).commands.splice(program.commands.indexOf(existing), 1);
    const c = program.command(cmd.name).description(cmd.description);
    cmd.define(c);
    c.action(async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      exitCode = await cmd.run(command.args, command.opts(), context);
    });
  }

  try {
    await program.parseAsync(options.argv ?? process.argv.slice(2), { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 1;
    }
    if (err instanceof ConfigError) return fail(err.message);
    if (err instanceof PluginError) return fail(err.message);
    io.stderr.write(`${name}: unexpected error, this is a bug, please report it:\n${(err as Error)?.stack ?? err}\n`);
    return 1;
  }
}

async function start<Section>(
  channel: ChannelDefinition<Section>,
  context: CliCommandContext<Section>,
  opts: { config: string; debug: boolean },
  run: RunOptions,
  fail: (m: string) => number,
): Promise<number> {
  let config: PluginConfig<Section>;
  try {
    config = loadConfig(channel, opts.config);
  } catch (err) {
    return fail((err as Error).message);
  }
  const log = createLogger(config.log, { debug: opts.debug });
  if (opts.debug) log.debug('DEBUG logging enabled');
  for (const w of config.warnings) log.warn(w);
  log.info({ version: channel.version, git_ref: context.io.env.TAP_GIT_REF || process.env.TAP_GIT_REF || '' }, `Starting Teleport Access ${channel.displayName} Plugin ${channel.version}`);

  const metrics = new PluginMetrics();
  const plugin = createPlugin(channel, config, { log, metrics, env: context.io.env });
  let health: { close(): Promise<void> } | undefined;
  if (config.http.listenAddr) {
    try {
      health = await startHealthServer(config.http.listenAddr, metrics, () => plugin.readiness());
      log.info({ listen_addr: config.http.listenAddr }, 'Serving /healthz, /readyz and /metrics');
    } catch (err) {
      log.error({ err }, 'Terminating with fatal error');
      return 1;
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = (fast = false) => {
    if (fast) {
      log.warn('Second interrupt: stopping now');
      process.exit(1);
    }
    if (stopping) return stopping;
    log.info('Attempting graceful shutdown');
    stopping = plugin.stop(15_000).catch((err) => log.error({ err }, 'Graceful shutdown failed, attempting fast shutdown'));
    return stopping;
  };
  const onTerm = () => void stop();
  let interrupts = 0;
  const onInt = () => void stop(++interrupts > 1);
  if (run.handleSignals ?? true) {
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  }
  run.stopSignal?.addEventListener('abort', () => void stop(), { once: true });

  try {
    await plugin.start();
    await plugin.done;
    if (stopping) await stopping;
    log.info('Successfully shut down');
    return 0;
  } catch (err) {
    log.error({ err }, 'Terminating with fatal error');
    await plugin.stop(1_000).catch(() => {});
    return 1;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    await health?.close();
  }
}

async function validate<Section>(
  channel: ChannelDefinition<Section>,
  context: CliCommandContext<Section>,
  path: string,
  extra: string[],
  sendTest: boolean,
): Promise<number> {
  const out = (line: string) => context.io.stdout.write(`${line}\n`);
  let failures = 0;
  out(` - Loading configuration ${path}...`);
  let config: PluginConfig<Section>;
  try {
    config = loadConfig(channel, path);
  } catch (err) {
    out(` - Configuration is invalid: ${(err as Error).message}`);
    out('1 check(s) failed.');
    return 1;
  }
  for (const w of config.warnings) out(` - Warning: ${w}`);
  const log: Logger = createLogger({ ...config.log, output: 'stderr', severity: 'error' });
  out(` - Connecting to Teleport at ${config.teleport.addr}...`);
  let ping: PingInfo | undefined;
  try {
    const conn = await context.connectTeleport(config, log);
    ping = conn.ping;
    conn.client.close();
    out(`   Connected to cluster "${ping.clusterName}" (Teleport ${ping.serverVersion})`);
  } catch (err) {
    failures++;
    out(`   Failed: ${(err as Error).message}`);
  }
  const { messenger } = context.createMessenger(config, log, ping);
  const signal = () => AbortSignal.timeout(15_000);
  out(` - Checking the ${channel.displayName} API...`);
  try {
    const info = await messenger.checkHealth(signal());
    out(`   OK${info?.summary ? `: ${info.summary}` : ''}`);
  } catch (err) {
    failures++;
    out(`   Failed: ${(err as Error).message}`);
  }
  const names = [...new Set([...Object.values(config.roleToRecipients).flat(), ...extra])];
  for (const name of names) {
    try {
      const r = await messenger.resolveRecipient(name, signal());
      out(` - Recipient "${name}": ${r.kind} ${r.id}`);
      if (sendTest) {
        if (!messenger.sendTest) out('   (this channel cannot send a test message)');
        else out(`   Test message sent, ID: ${await messenger.sendTest(r, signal())}`);
      }
    } catch (err) {
      failures++;
      out(` - Recipient "${name}" failed: ${(err as Error).message}`);
    }
  }
  await messenger.close?.();
  out(failures ? `${failures} check(s) failed.` : 'All checks passed.');
  return failures ? 1 : 0;
}

/** The whole body of a channel's `bin.ts`. */
export async function main<Section>(channel: ChannelDefinition<Section>): Promise<void> {
  process.exitCode = await runPluginCli(channel);
}
