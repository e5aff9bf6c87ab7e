/**
 * The Teams plugin's keys (Teleport's): top-level `preload` (resolve every configured
 * recipient at start and fail fast), and `[msapi] app_id, app_secret (inline or an absolute
 * file path), tenant_id, teams_app_id, region` (Bot Framework region, default `emea`).
 * Beyond Go, the three service endpoints can be overridden (`login_endpoint`,
 * `graph_endpoint`, `bot_endpoint`) for proxies and tests.
 */
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
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    } catch {
      reader.error(`msapi.${key}`, `"${value}" is not an http(s) URL`);
    }
    return value.replace(/\/+$/, '');
  };
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
  };
}
