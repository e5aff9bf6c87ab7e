// PLACEHOLDER owned by H-conn: replaced by the real connection code (credentials, dialers, Ping, version check).
import type { Logger } from 'pino';
import type { TeleportConfig } from '../config-types.js';
import type { TeleportClient } from './client.js';
import type { PingInfo } from './types.js';

export interface ConnectOptions {
  log: Logger;
  /** Minimum server version, e.g. `6.1.0-beta.1` (msteams `8.0.0`). */
  minServerVersion?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

/** Loads credentials, dials Auth (directly or through a TLS-routing proxy), Pings and checks the version. */
export async function connectTeleport(_config: TeleportConfig, _options: ConnectOptions): Promise<{ client: TeleportClient; ping: PingInfo }> {
  throw new Error('connectTeleport: not implemented yet');
}
