import type { RecipientsMap } from './channel.js';

/** `[teleport]`, normalised (Teleport's `lib.TeleportConfig`). */
export interface TeleportConfig {
  /** host:port of Auth (3025) or Proxy (443/3080). Default `localhost:3025`; `auth_server` is an alias. */
  addr: string;
  /** Identity file from `tctl auth sign --format=file` or tbot's `identity` output, or a tbot output directory. */
  identity?: string;
  refreshIdentity: boolean;
  /** `refresh_identity_interval` (Go duration), default 60 000 ms. */
  refreshIdentityIntervalMs: number;
  /** `--format=tls` triple: all three or none. */
  clientKey?: string;
  clientCrt?: string;
  rootCas?: string;
}

/** `[log]` (Teleport's `logger.Config`). */
export interface LogConfig {
  /** `stderr` (default), `stdout`, or a file path (appended). */
  output: string;
  severity: 'debug' | 'info' | 'warn' | 'error';
  format: 'text' | 'json';
}

/** `[http]` (ours): health and metrics endpoints, off unless `listen_addr` is set. */
export interface HttpConfig {
  listenAddr?: string;
}

/** A loaded, validated plugin config. */
export interface PluginConfig<Section = unknown> {
  /** Path it was read from (for messages). */
  file: string;
  teleport: TeleportConfig;
  log: LogConfig;
  http: HttpConfig;
  /** After the channel's recipient rules (`"*"` check, Mattermost/email rewrites). */
  roleToRecipients: RecipientsMap;
  /** The channel's own section(s), as its `parseConfig` returned them. */
  section: Section;
  /** Non-fatal problems (unknown keys, deprecated keys), each `key.path: message`; logged at start. */
  warnings: string[];
}
