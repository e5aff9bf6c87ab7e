/**
 * The Teams plugin's keys (Teleport's): top-level `preload` (resolve every configured
 * recipient at start and fail fast), and `[msapi] app_id, app_secret (inline or an absolute
 * file path), tenant_id, teams_app_id, region` (Bot Framework region, default `emea`).
 * Beyond Go, the three service endpoints can be overridden (`login_endpoint`,
 * `graph_endpoint`, `bot_endpoint`; https only, since tokens travel to them) for proxies,
 * sovereign clouds and tests, and `ca_file` adds trusted CA certificates (PEM) for them.
 */
import { readFileSync } from 'node:fs';
import type { ConfigReader } from '@tap/core';

export interface MsTeamsSection {
  preload: boolean;
  appId: string;
  /** Never logged. */
  appSecret: string;
  tenantId: string;
  teamsAppId: string;
  region: string;
  loginEndpoint: string;
  graphEndpoint: string;
  botEndpoint: string;
  /** Extra trusted CA certificates (PEM) from `[msapi] ca_file`, added to the system's. */
  caPem?: string;
}

export const LOGIN_ENDPOINT = 'https://login.microsoftonline.com';
export const GRAPH_ENDPOINT = 'https://graph.microsoft.com/v1.0';
export const BOT_ENDPOINT = 'https://smba.trafficmanager.net';

export function parseMsTeamsConfig(reader: ConfigReader): MsTeamsSection {
  const preload = reader.boolean('preload', { default: false }) ?? false;
  const appId = reader.string('msapi.app_id') ?? '';
  const appSecret = reader.string('msapi.app_secret', { secret: true }) ?? '';
  const tenantId = reader.string('msapi.tenant_id') ?? '';
  const teamsAppId = reader.string('msapi.teams_app_id') ?? '';
  // Go validates none of these at load time; an empty value failed later with an opaque
  // token or Graph error, so say which key is missing now.
  for (const [key, value] of [['app_id', appId], ['app_secret', appSecret], ['tenant_id', tenantId], ['teams_app_id', teamsAppId]] as const) {
    if (!value) reader.error(`msapi.${key}`, `missing required value msapi.${key}`);
  }
  const region = reader.string('msapi.region') || 'emea';
  reader.accept('msapi.default_recipient');
  const endpoint = (key: string, fallback: string) => {
    const value = reader.string(`msapi.${key}`) ?? fallback;
    try {
      const url = new URL(value);
      if (url.protocol !== 'https:') {
        // The SDKs send tokens (and the secret) only over TLS.
        reader.error(`msapi.${key}`, `"${value}" must be an https URL (tokens are only sent over TLS; for a private CA set msapi.ca_file)`);
      }
    } catch {
      reader.error(`msapi.${key}`, `"${value}" is not an https URL`);
    }
    return value.replace(/\/+$/, '');
  };
  const caFile = reader.string('msapi.ca_file') ?? '';
  let caPem: string | undefined;
  if (caFile) {
    try {
      caPem = readFileSync(caFile, 'utf8');
      if (!caPem.includes('-----BEGIN CERTIFICATE-----')) reader.error('msapi.ca_file', `${caFile} holds no PEM certificate`);
    } catch (err) {
      reader.error('msapi.ca_file', `cannot read ${caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return {
    preload,
    appId,
    appSecret,
    tenantId,
    teamsAppId,
    region,
    loginEndpoint: endpoint('login_endpoint', LOGIN_ENDPOINT),
    graphEndpoint: endpoint('graph_endpoint', GRAPH_ENDPOINT),
    botEndpoint: endpoint('bot_endpoint', BOT_ENDPOINT),
    ...(caPem ? { caPem } : {}),
  };
}
