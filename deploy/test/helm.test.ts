import TOML from '@iarna/toml';
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { Chart, deepMerge } from './helm-render.js';

const HELM_DIR = new URL('../helm/', import.meta.url).pathname;

/** What an operator's values file for the official chart typically holds. */
const OPERATOR_VALUES: Record<string, Record<string, unknown>> = {
  slack: {
    teleport: { address: 'teleport.example.com:443', identitySecretName: 'teleport-plugin-slack-identity' },
    slack: { token: 'xoxb-secret-token' },
    roleToRecipients: { '*': ['admin@example.com'], dev: ['dev-channel', 'dev@example.com'] },
    log: { severity: 'DEBUG' },
  },
  discord: {
    teleport: { address: 'teleport.example.com:443', identitySecretName: 'teleport-plugin-discord-identity' },
    discord: { token: 'discord-secret' },
    roleToRecipients: { '*': ['1234567890'], dev: ['0987654321'] },
  },
  mattermost: {
    teleport: { address: 'teleport.example.com:443', identitySecretName: 'teleport-plugin-mattermost-identity' },
    mattermost: { url: 'https://mattermost.example.com', token: 'mm-secret', recipients: ['team/channel', 'admin@example.com'] },
  },
  msteams: {
    teleport: { address: 'teleport.example.com:443', identitySecretName: 'teleport-plugin-msteams-identity' },
    msTeams: { appID: 'app-id', tenantID: 'tenant-id', teamsAppID: 'teams-app-id', appSecret: 'teams-secret' },
    roleToRecipients: { '*': 'admin@example.com', dev: ['dev@example.com'] },
  },
  email: {
    teleport: { address: 'teleport.example.com:443', identitySecretName: 'teleport-plugin-email-identity' },
    smtp: { enabled: true, host: 'smtp.example.com', username: 'bot', password: 'smtp-secret' },
    delivery: { sender: 'noreply@example.com' },
    roleToRecipients: { '*': ['admin@example.com'] },
  },
};

/** The file the plugin reads its secret from, per chart, and the secret key holding it. */
const SECRET_FILE: Record<string, [string, string]> = {
  slack: ['slack.token', '/var/lib/teleport/plugins/slack/slack-token'],
  discord: ['discord.token', '/var/lib/teleport/plugins/discord/discord-token'],
  mattermost: ['mattermost.token', '/var/lib/teleport/plugins/mattermost/mattermost_token'],
  msteams: ['msapi.app_secret', '/var/lib/teleport/plugins/msteams/appSecret'],
  email: ['smtp.password_file', '/var/lib/teleport/plugins/email/smtp_password'],
};

const get = (obj: any, path: string) => path.split('.').reduce((o, k) => o?.[k], obj);

for (const plugin of Object.keys(OPERATOR_VALUES)) {
  describe(`helm chart teleport-plugin-${plugin}`, () => {
    const dir = join(HELM_DIR, `teleport-plugin-${plugin}`);
    const chart = new Chart(dir);
    const values = OPERATOR_VALUES[plugin]!;
    const manifests = chart.manifests(values);
    const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
    const configMap = byKind('ConfigMap')[0]!;
    const toml = configMap.data[`teleport-${plugin}.toml`] as string;
    const config = TOML.parse(toml) as any;

    it('values.yaml satisfies values.schema.json, and so does an operator values file', () => {
      const schema = JSON.parse(readFileSync(join(dir, 'values.schema.json'), 'utf8'));
      const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
      const defaults = YAML.parse(readFileSync(join(dir, 'values.yaml'), 'utf8'));
      expect(validate(defaults), JSON.stringify(validate.errors)).toBe(true);
      expect(validate(deepMerge(defaults, values)), JSON.stringify(validate.errors)).toBe(true);
      expect(validate({ ...defaults, log: { output: 'stdout', severity: 'LOUD' } })).toBe(false);
    });

    it('renders a ConfigMap whose TOML has the official layout', () => {
      expect(config.teleport).toEqual({
        addr: 'teleport.example.com:443',
        identity: `/var/lib/teleport/plugins/${plugin}/teleport-identity/auth_id`,
        refresh_identity: true,
      });
      expect(config.log).toEqual({ output: 'stdout', severity: plugin === 'slack' ? 'DEBUG' : 'INFO' });
      expect(get(config, SECRET_FILE[plugin]![0])).toBe(SECRET_FILE[plugin]![1]);
      expect(toml).not.toMatch(/secret-token|mm-secret|teams-secret|smtp-secret|discord-secret/);
    });

    it('renders role_to_recipients from roleToRecipients', () => {
      if (plugin === 'mattermost') {
        expect(config.mattermost.recipients).toEqual(['team/channel', 'admin@example.com']);
        expect(config.role_to_recipients).toBeUndefined();
      } else {
        expect(config.role_to_recipients).toEqual(values.roleToRecipients);
      }
    });

    it('runs the plugin with fail-fast, mounting config, identity and secret where the TOML points', () => {
      const deployment = byKind('Deployment')[0]!;
      const container = deployment.spec.template.spec.containers[0];
      expect(container.command).toEqual(['/usr/local/bin/teleport-plugin', 'start', '--config', `/etc/teleport-${plugin}.toml`]);
      expect(container.env).toContainEqual({ name: 'TELEPORT_PLUGIN_FAIL_FAST', value: 'true' });
      const mounts = Object.fromEntries(container.volumeMounts.map((m: any) => [m.mountPath, m]));
      expect(mounts[`/etc/teleport-${plugin}.toml`].subPath).toBe(`teleport-${plugin}.toml`);
      expect(mounts[`/var/lib/teleport/plugins/${plugin}/teleport-identity`]).toBeDefined();
      expect(mounts[SECRET_FILE[plugin]![1]]).toBeDefined();
      const volumes = Object.fromEntries(deployment.spec.template.spec.volumes.map((v: any) => [v.name, v]));
      expect(volumes['teleport-identity'].secret.secretName).toBe(`teleport-plugin-${plugin}-identity`);
      for (const v of Object.values(volumes) as any[]) expect((v.secret ?? v.configMap).defaultMode).toBe(0o600);
    });

    it('stores the secret in a Secret (base64) unless an existing one is named', () => {
      const secret = byKind('Secret')[0]!;
      const [key, value] = Object.entries(secret.data)[0]! as [string, string];
      expect(Buffer.from(value, 'base64').toString()).toMatch(/secret/);
      expect(key).toMatch(/Token|appSecret|smtpPassword/);
      const fromSecret: Record<string, unknown> = {
        slack: { slack: { tokenFromSecret: 'mine' } },
        discord: { discord: { tokenFromSecret: 'mine' } },
        mattermost: { mattermost: { tokenFromSecret: 'mine' } },
        msteams: { msTeams: { appSecretFromSecret: 'mine' } },
        email: { smtp: { passwordFromSecret: 'mine' } },
      }[plugin] as Record<string, unknown>;
      const merged = YAML.parse(JSON.stringify(values));
      for (const [k, v] of Object.entries(fromSecret)) merged[k] = { ...merged[k], ...(v as object) };
      const rendered = chart.manifests(merged);
      expect(rendered.filter((m) => m.kind === 'Secret')).toEqual([]);
      const vols = rendered.find((m) => m.kind === 'Deployment')!.spec.template.spec.volumes;
      expect(vols.find((v: any) => v.name === 'password-file').secret.secretName).toBe('mine');
    });

    it('adds /healthz and /readyz probes and [http] when http.enabled', () => {
      const rendered = chart.manifests({ ...values, http: { enabled: true, port: 9090 } });
      const cm = TOML.parse(rendered.find((m) => m.kind === 'ConfigMap')!.data[`teleport-${plugin}.toml`]) as any;
      expect(cm.http).toEqual({ listen_addr: '0.0.0.0:9090' });
      const container = rendered.find((m) => m.kind === 'Deployment')!.spec.template.spec.containers[0];
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(container.ports[0].containerPort).toBe(9090);
    });
  });
}

describe('helm chart specifics', () => {
  it('msteams preloads recipients and renders [msapi]', () => {
    const cm = new Chart(join(HELM_DIR, 'teleport-plugin-msteams')).manifests(OPERATOR_VALUES.msteams).find((m) => m.kind === 'ConfigMap')!;
    const config = TOML.parse(cm.data['teleport-msteams.toml']) as any;
    expect(config.preload).toBe(true);
    expect(config.msapi).toEqual({ app_id: 'app-id', app_secret: '/var/lib/teleport/plugins/msteams/appSecret', tenant_id: 'tenant-id', teams_app_id: 'teams-app-id' });
  });

  it('email renders [mailgun] when enabled, and delivery.recipients when no roleToRecipients', () => {
    const chart = new Chart(join(HELM_DIR, 'teleport-plugin-email'));
    const cm = chart.manifests({
      teleport: { address: 'a:443', identitySecretName: 'id' },
      mailgun: { enabled: true, domain: 'mg.example.com', privateKey: 'k' },
      delivery: { sender: 'noreply@example.com', recipients: ['all@example.com'] },
    }).find((m) => m.kind === 'ConfigMap')!;
    const config = TOML.parse(cm.data['teleport-email.toml']) as any;
    expect(config.mailgun).toEqual({ domain: 'mg.example.com', private_key_file: '/var/lib/teleport/plugins/email/mailgun_private_key' });
    expect(config.smtp).toBeUndefined();
    expect(config.delivery).toEqual({ sender: 'noreply@example.com', recipients: ['all@example.com'] });
  });

  it('tbot: the identity comes from the tbot output secret', () => {
    const chart = new Chart(join(HELM_DIR, 'teleport-plugin-slack'));
    const rendered = chart.manifests({ tbot: { enabled: true, teleportProxyAddress: 'proxy.example.com:443' }, slack: { token: 't' }, roleToRecipients: { '*': ['c'] } });
    const config = TOML.parse(rendered.find((m) => m.kind === 'ConfigMap')!.data['teleport-slack.toml']) as any;
    expect(config.teleport.addr).toBe('proxy.example.com:443');
    expect(config.teleport.identity).toBe('/var/lib/teleport/plugins/slack/teleport-identity/identity');
  });

  it('refuses to render without an identity secret', () => {
    const chart = new Chart(join(HELM_DIR, 'teleport-plugin-slack'));
    expect(() => chart.render({ slack: { token: 't' } })).toThrow(/identitySecretName is required/);
  });
});
