/**
 * `teleport-msteams configure DIR --appID … --tenantID … --appSecret …`: writes
 * `teleport-msteams.toml`, `app.zip` and `teleport-msteams-role.yaml` into a new directory.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChannelCommand, PluginError } from '@tap/core';
import type { MsTeamsSection } from './config.js';
import { ROLE_YAML, manifest, newTeamsAppId, pluginToml, writeAppZip } from './app-package.js';

/** The target directory must be new, so an existing setup is never overwritten. */
class TargetExistsError extends PluginError {
  readonly code = 'ERR_CONFIG';
}

const GUID = /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/;

export const GUIDE_URL = 'https://goteleport.com/docs/admin-guides/access-controls/access-request-plugins/ssh-approval-msteams/';

export const configureCommand: ChannelCommand<MsTeamsSection> = {
  name: 'configure',
  description: 'Generates plugin and bot configuration',
  define(command) {
    command
      .argument('<dir>', 'Path to target directory')
      .requiredOption('--appID <id>', 'MS App ID')
      .requiredOption('--appSecret <secret>', 'MS App Secret')
      .requiredOption('--tenantID <id>', 'MS App Tenant ID');
  },
  async run(args, options, context) {
    const dir = args[0]!;
    const out = (line = '') => context.io.stdout.write(`${line}\n`);
    if (existsSync(dir)) throw new TargetExistsError(`${dir} exists! Please, specify an empty folder`);
    const ids = { appId: String(options.appID), appSecret: String(options.appSecret), tenantId: String(options.tenantID), teamsAppId: newTeamsAppId() };
    // The manifest schema wants a GUID for the bot id (Go wrote whatever it was given).
    if (!GUID.test(ids.appId)) context.io.stderr.write(`Warning: --appID "${ids.appId}" is not a GUID (the Azure app's client ID looks like 6f1c2d3e-…); Teams will refuse app.zip.\n`);
    await mkdir(dir, { recursive: true });
    out(`[1] Created target directory: ${dir}`);
    await writeFile(join(dir, 'teleport-msteams.toml'), pluginToml(ids), { mode: 0o600 });
    await writeFile(join(dir, 'teleport-msteams-role.yaml'), ROLE_YAML);
    await writeFile(join(dir, 'manifest.json'), manifest(ids));
    await writeAppZip(join(dir, 'app.zip'), ids);
    out(`[2] Created ${join(dir, 'app.zip')}`);
    out();
    out(`TeamsAppID: ${ids.teamsAppId}`);
    out();
    out('Follow-along with our getting started guide:');
    out();
    out(GUIDE_URL);
    return 0;
  },
};
