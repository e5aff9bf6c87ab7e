// Each chart renders a config the plugin itself accepts: the ConfigMap's TOML goes through the
// plugin's own loader (secret files written where the chart mounts them, rebased to a temp dir).
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, type ChannelDefinition } from '@tap/core';
import { Chart } from './helm-render.js';

const ROOT = new URL('../../', import.meta.url).pathname;

const VALUES: Record<string, Record<string, unknown>> = {
  slack: { slack: { token: 'xoxb-secret' }, roleToRecipients: { '*': ['admin@example.com'], dev: ['dev-channel'] } },
  discord: { discord: { token: 'discord-secret' }, roleToRecipients: { '*': ['1234567890'] } },
  mattermost: { mattermost: { url: 'https://mattermost.example.com', token: 'mm-secret', recipients: ['team/channel', 'admin@example.com'] } },
  msteams: { msTeams: { appID: 'app-id', tenantID: 'tenant-id', teamsAppID: 'teams-app-id', appSecret: 'teams-secret' }, roleToRecipients: { '*': 'admin@example.com' } },
  email: { smtp: { enabled: true, host: 'smtp.example.com', username: 'bot', password: 'smtp-secret' }, delivery: { sender: 'noreply@example.com' }, roleToRecipients: { '*': ['admin@example.com'] } },
};

for (const [plugin, channelValues] of Object.entries(VALUES)) {
  const built = existsSync(join(ROOT, `packages/${plugin}/src/index.ts`));
  describe.skipIf(!built)(`teleport-plugin-${plugin} chart → teleport-${plugin} config loader`, () => {
    it('accepts the rendered TOML without errors or warnings', async () => {
      const values = { teleport: { address: 'teleport.example.com:443', identitySecretName: `teleport-plugin-${plugin}-identity` }, ...channelValues };
      const rendered = new Chart(join(ROOT, `deploy/helm/teleport-plugin-${plugin}`)).manifests(values);
      let toml = rendered.find((m) => m.kind === 'ConfigMap')!.data[`teleport-${plugin}.toml`] as string;
      const secret = rendered.find((m) => m.kind === 'Secret');
      const mounts = rendered.find((m) => m.kind === 'Deployment')!.spec.template.spec.containers[0].volumeMounts as Array<{ mountPath: string; name: string; subPath?: string }>;
      const root = mkdtempSync(join(tmpdir(), `helm-${plugin}-`));
      // Every file the TOML points at under the plugin's directory, rebased into `root`.
      for (const mount of mounts) {
        if (!mount.mountPath.startsWith('/var/lib/teleport/')) continue;
        const local = join(root, mount.mountPath);
        const value = secret ? Buffer.from(Object.values(secret.data as Record<string, string>)[0]!, 'base64').toString() : 'secret';
        if (mount.name === 'teleport-identity') continue;
        mkdirSync(dirname(local), { recursive: true });
        writeFileSync(local, value);
      }
      toml = toml.replaceAll('/var/lib/teleport/', `${root}/var/lib/teleport/`);
      const mod = (await import(`@tap/${plugin}`)) as Record<string, unknown>;
      const channel = mod[plugin] as ChannelDefinition<unknown>;
      const config = parseConfig(channel, `/etc/teleport-${plugin}.toml`, toml);
      expect(config.warnings).toStrictEqual([]);
      expect(config.teleport.addr).toBe('teleport.example.com:443');
      expect(JSON.stringify(config.section)).toMatch(/secret/);
    });
  });
}
