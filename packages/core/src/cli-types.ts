import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { ChannelContext, Messenger } from './channel.js';
import type { PluginConfig } from './config-types.js';
import type { TeleportClient } from './teleport/client.js';
import type { PingInfo } from './teleport/types.js';

/** Streams and environment a CLI run uses; injectable so tests run the CLI in-process. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
}

/** What the CLI kit offers a channel's own command (msteams `configure`/`validate`/`uninstall`, email `validate`). */
export interface CliCommandContext<Section> {
  io: CliIo;
  /** `/etc/teleport-<name>.toml`. */
  defaultConfigPath: string;
  /** Loads and validates; throws ConfigError listing every problem. */
  loadConfig(path: string): Promise<PluginConfig<Section>>;
  /** A logger that follows the config's `[log]` section. */
  createLogger(config: PluginConfig<Section>, options?: { debug?: boolean }): Logger;
  /** Connects to Teleport (Ping + version check). */
  connectTeleport(config: PluginConfig<Section>, log: Logger): Promise<{ client: TeleportClient; ping: PingInfo }>;
  /** Builds the channel's messenger; without `ping` the cluster name is taken from the credentials. */
  createMessenger(config: PluginConfig<Section>, log: Logger, ping?: PingInfo): { messenger: Messenger; context: ChannelContext };
}

/**
 * A channel-specific command. A command whose name is a built-in (`configure`, `validate`)
 * replaces it. `run` returns the exit code; thrown PluginErrors print one clear line and exit 1.
 */
export interface ChannelCommand<Section> {
  name: string;
  description: string;
  /** Declares arguments and options on the commander command. */
  define(command: Command): void;
  run(args: string[], options: Record<string, unknown>, context: CliCommandContext<Section>): Promise<number>;
}
