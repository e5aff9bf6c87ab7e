/**
 * What `teleport-msteams configure` writes: the plugin config, the Teams app package
 * (`app.zip`: manifest.json, color.png, outline.png) and the role YAML. A new Teams app UUID
 * is generated every run, so re-running means uploading the new app.zip.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { ZipArchive } from 'archiver';
import { colorIcon, outlineIcon } from './png.js';

export interface AppIds {
  appId: string;
  tenantId: string;
  appSecret: string;
  teamsAppId: string;
}

export const newTeamsAppId = (): string => randomUUID();

/** The Teams app manifest (schema 1.11), as the Go daemon's template fills it. */
export function manifest(ids: Pick<AppIds, 'appId' | 'teamsAppId'>): string {
  const m = {
    $schema: 'https://developer.microsoft.com/en-us/json-schemas/teams/v1.11/MicrosoftTeams.schema.json',
    manifestVersion: '1.11',
    version: '1.0.0',
    id: ids.teamsAppId,
    packageName: 'com.gravitational.telebot',
    developer: { name: 'Gravitational', websiteUrl: 'https://goteleport.com', privacyUrl: 'https://goteleport.com/legal/privacy', termsOfUseUrl: 'https://goteleport.com/legal/tos' },
    icons: { color: 'color.png', outline: 'outline.png' },
    name: { short: 'TeleBot', full: 'TeleBot' },
    description: { short: 'Teleport bot', full: 'Teleport bot sends AccessRequests to team users' },
    accentColor: '#FFFFFF',
    bots: [{ botId: ids.appId, scopes: ['team'], supportsFiles: false, isNotificationOnly: true }],
    permissions: ['identity', 'messageTeamMembers'],
    validDomains: [],
    webApplicationInfo: { id: ids.appId, resource: 'https://inapplicable' },
  };
  return JSON.stringify(m, null, 4);
}

/** TOML basic string: JSON's escapes are all valid TOML escapes (Go HTML-escaped here: a bug). */
const tomlString = (value: string) => JSON.stringify(value);

export function pluginToml(ids: AppIds): string {
  return `# teleport-msteams configuration, written by "teleport-msteams configure".

# Resolve every recipient below at start (and install the app for each user), so a
# misconfigured recipient stops the plugin at once instead of at the first request.
preload = true

[teleport]
# Where the plugin reaches Teleport: the Auth Service (port 3025) or the Proxy
# Service (443 or 3080). Teleport Cloud: "your-account.teleport.sh:443".
addr = "localhost:3025"

# An identity file (tctl auth sign --format=file, or a tbot identity output):
identity = "identity"
# refresh_identity = true                                  # re-read it periodically (tbot renews it)
#
# Or a TLS key pair and CA bundle (tctl auth sign --format=tls):
# client_key = "/var/lib/teleport/plugins/msteams/auth.key" # private key
# client_crt = "/var/lib/teleport/plugins/msteams/auth.crt" # certificate
# root_cas = "/var/lib/teleport/plugins/msteams/auth.cas"   # Teleport CA certificates

[msapi]
# The Azure bot's application (client) ID and tenant, and a client secret. app_secret may
# instead be an absolute path to a file holding the secret.
app_id = ${tomlString(ids.appId)}
app_secret = ${tomlString(ids.appSecret)}
tenant_id = ${tomlString(ids.tenantId)}
# The id in app.zip's manifest.json (new on every "configure" run).
teams_app_id = ${tomlString(ids.teamsAppId)}

[role_to_recipients]
# Who hears about a request, by requested role: emails, Entra user IDs or Teams channel URLs.
# The "*" entry is required: it covers every role without an entry of its own.
# "dev" = ["dev-lead@example.com", "https://teams.microsoft.com/l/channel/19%3a…/Requests?groupId=…&tenantId=…"]
"*" = ["foo@example.com"]

[log]
output = "stderr" # "stdout", "stderr" or a file path such as "/var/lib/teleport/msteams.log"
severity = "INFO" # "DEBUG", "INFO", "WARN" or "ERROR"
`;
}

export const ROLE_YAML = `kind: role
version: v6
metadata:
  name: teleport-msteams
spec:
  allow:
    rules:
      - resources: ['access_request']
        verbs: ['list', 'read', 'update']
---
kind: user
version: v2
metadata:
  name: teleport-msteams
spec:
  roles: ['teleport-msteams']
`;

/** Writes app.zip: manifest.json, color.png, outline.png at the root, deflated. */
export async function writeAppZip(path: string, ids: Pick<AppIds, 'appId' | 'teamsAppId'>): Promise<void> {
  const zip = new ZipArchive({ zlib: { level: 9 } });
  const out = createWriteStream(path, { mode: 0o644 });
  zip.pipe(out);
  zip.append(manifest(ids), { name: 'manifest.json' });
  zip.append(colorIcon(), { name: 'color.png' });
  zip.append(outlineIcon(), { name: 'outline.png' });
  await zip.finalize();
  await finished(out);
}
