// `teleport-msteams configure DIR …`: the TOML, app.zip (manifest and our icons) and role YAML.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import TOML from '@iarna/toml';
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseConfig } from '@tap/core';
import { runCli } from '@tap/core/testing';
import { manifest, msteams } from '@tap/msteams';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'msteams-configure-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = (...argv: string[]) => runCli(msteams, ...argv);

/** Entries of a zip file (stored or deflated), read from its central directory. */
function unzip(zip: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let at = zip.readUInt32LE(end + 16);
  for (let i = 0; i < zip.readUInt16LE(end + 10); i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString();
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + size);
    out.set(name, method === 8 ? inflateRawSync(data) : data);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return out;
}

/** The Teams manifest schema of `version`, vendored from npm (see test/fixtures/README.md). */
async function manifestSchema(version: string): Promise<Record<string, unknown>> {
  const path = new URL(`./fixtures/teams-manifest-v${version}/MicrosoftTeams.schema.json`, import.meta.url);
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

/** Errors of `manifest` against the schema its `$schema` and `manifestVersion` declare. */
async function validateManifest(manifest: Record<string, unknown>): Promise<string[]> {
  const declared = /\/json-schemas\/teams\/v([\d.]+)\/MicrosoftTeams\.schema\.json$/.exec(String(manifest.$schema))?.[1];
  if (!declared) return [`$schema ${String(manifest.$schema)} is not a Teams manifest schema URL`];
  if (declared !== manifest.manifestVersion) return [`$schema says ${declared}, manifestVersion ${String(manifest.manifestVersion)}`];
  // The schema is draft-04 (with draft-06's `const`), hence ajv-draft-04.
  const ajv = new Ajv04({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(await manifestSchema(declared));
  if (validate(manifest)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/** Width, height, bit depth and colour type from a PNG's IHDR. */
const pngHeader = (png: Buffer) => ({ signature: png.subarray(1, 4).toString(), width: png.readUInt32BE(16), height: png.readUInt32BE(20), depth: png[24], colorType: png[25] });

describe('teleport-msteams configure', () => {
  const secret = 'se"cr&t<\\>+\'';

  it('writes the config with the secret exact, app.zip with the manifest and our icons, and the role', async () => {
    const target = join(dir, 'assets');
    const appId = '3a1f1c9e-1111-4222-8333-444455556666';
    const { code, stdout, stderr } = await run('configure', target, '--appID', appId, '--tenantID', 'tenant-1', '--appSecret', secret);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const teamsAppId = /TeamsAppID: (\S+)/.exec(stdout)![1]!;
    expect(stdout).toContain(`[1] Created target directory: ${target}`);
    expect(stdout).toContain(`[2] Created ${join(target, 'app.zip')}`);
    expect(stdout).toContain('Follow-along with our getting started guide:');

    const text = await readFile(join(target, 'teleport-msteams.toml'), 'utf8');
    const toml = TOML.parse(text) as Record<string, Record<string, unknown>>;
    expect(toml.msapi).toStrictEqual({ app_id: appId, app_secret: secret, tenant_id: 'tenant-1', teams_app_id: teamsAppId });
    expect(toml.preload).toBe(true);
    // The plugin itself accepts what configure wrote.
    expect(parseConfig(msteams, 'teleport-msteams.toml', text).section).toMatchObject({ appSecret: secret, teamsAppId, preload: true, preloadRecipients: ['foo@example.com'] });

    const files = unzip(await readFile(join(target, 'app.zip')));
    expect([...files.keys()]).toStrictEqual(['manifest.json', 'color.png', 'outline.png']);
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    expect(manifest).toMatchObject({
      $schema: 'https://developer.microsoft.com/en-us/json-schemas/teams/v1.11/MicrosoftTeams.schema.json',
      manifestVersion: '1.11',
      id: teamsAppId,
      name: { short: 'TeleBot', full: 'TeleBot' },
      bots: [{ botId: appId, scopes: ['team'], isNotificationOnly: true }],
      webApplicationInfo: { id: appId },
      icons: { color: 'color.png', outline: 'outline.png' },
    });
    expect(await validateManifest(manifest)).toStrictEqual([]);
    expect(pngHeader(files.get('color.png')!)).toStrictEqual({ signature: 'PNG', width: 192, height: 192, depth: 8, colorType: 6 });
    expect(pngHeader(files.get('outline.png')!)).toStrictEqual({ signature: 'PNG', width: 32, height: 32, depth: 8, colorType: 6 });

    const [role, user] = YAML.parseAllDocuments(await readFile(join(target, 'teleport-msteams-role.yaml'), 'utf8')).map((d) => d.toJS());
    expect(role).toMatchObject({ kind: 'role', metadata: { name: 'teleport-msteams' }, spec: { allow: { rules: [{ resources: ['access_request'], verbs: ['list', 'read', 'update'] }] } } });
    expect(user).toMatchObject({ kind: 'user', spec: { roles: ['teleport-msteams'] } });
  });

  it('the schema check catches a manifest that Teams would refuse', async () => {
    const good = JSON.parse(manifest({ appId: '3a1f1c9e-1111-4222-8333-444455556666', teamsAppId: '6f1c2d3e-1111-4222-8333-444455556666' })) as Record<string, unknown>;
    expect(await validateManifest(good)).toStrictEqual([]);
    const { developer: _developer, ...noDeveloper } = good;
    expect((await validateManifest(noDeveloper)).join('\n')).toContain("must have required property 'developer'");
    expect((await validateManifest({ ...good, id: 'not-a-guid' })).join('\n')).toMatch(/\/id must match pattern/);
    expect((await validateManifest({ ...good, name: { short: 'x'.repeat(31), full: 'TeleBot' } })).join('\n')).toMatch(/\/name\/short must NOT have more than 30 characters/);
    expect((await validateManifest({ ...good, bots: [{ botId: good.id, scopes: ['everywhere'] }] })).join('\n')).toMatch(/\/bots\/0\/scopes\/0 must be equal to one of the allowed values/);
    expect(await validateManifest({ ...good, manifestVersion: '1.12' })).toStrictEqual(['$schema says 1.11, manifestVersion 1.12']);
  });

  it('makes a new Teams app id on every run, and refuses an existing directory', async () => {
    const a = await run('configure', join(dir, 'a'), '--appID', 'x', '--tenantID', 'y', '--appSecret', 'z');
    expect(a.code).toBe(0);
    expect(a.stderr).toContain('Warning: --appID "x" is not a GUID');
    const b = await run('configure', join(dir, 'b'), '--appID', 'x', '--tenantID', 'y', '--appSecret', 'z');
    expect(/TeamsAppID: (\S+)/.exec(a.stdout)![1]).not.toBe(/TeamsAppID: (\S+)/.exec(b.stdout)![1]);
    const again = await run('configure', join(dir, 'a'), '--appID', 'x', '--tenantID', 'y', '--appSecret', 'z');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${join(dir, 'a')} exists! Please, specify an empty folder`);
    const missing = await run('configure', join(dir, 'c'), '--appID', 'x');
    expect(missing.code).toBe(1);
    expect(existsSync(join(dir, 'c'))).toBe(false);
  });
});
