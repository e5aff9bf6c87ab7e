#!/usr/bin/env node
// Builds single-executable binaries: dist/bin/teleport-<x> for each plugin (all by default),
// plus a release tarball per plugin in dist/release/. Steps: protos → JSON descriptor,
// esbuild bundle (one CJS file, protos embedded), Node SEA blob, injected into a copy of the
// pinned Node 24 binary with postject.
//   pnpm build:sea [slack mattermost ...]
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['slack', 'mattermost', 'discord', 'email', 'msteams'];
const plugins = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
const requireRoot = createRequire(join(ROOT, 'package.json'));
const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

function gitRef() {
  try {
    return execFileSync('git', ['describe', '--tags', '--always', '--dirty'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

const outDir = join(ROOT, 'dist');
const bundleDir = join(outDir, 'sea');
const binDir = join(outDir, 'bin');
const releaseDir = join(outDir, 'release');
for (const d of [bundleDir, binDir, releaseDir]) mkdirSync(d, { recursive: true });
const ref = gitRef();
const nodeBinary = process.execPath;
if (!process.version.startsWith('v24.')) console.warn(`warning: building with Node ${process.version}; the project pins Node 24 (run through pnpm)`);

for (const plugin of plugins) {
  const entry = join(ROOT, 'packages', plugin, 'src', 'bin.ts');
  if (!existsSync(entry)) throw new Error(`no ${entry}`);
  const outfile = join(bundleDir, `teleport-${plugin}.cjs`);
  await bundle({ entry, outfile, define: { 'process.env.TAP_GIT_REF': JSON.stringify(ref) } });

  const blob = join(bundleDir, `teleport-${plugin}.blob`);
  const seaConfig = join(bundleDir, `teleport-${plugin}.sea.json`);
  const { execArgv } = JSON.parse(readFileSync(join(ROOT, 'deploy/node-options.json'), 'utf8'));
  writeFileSync(seaConfig, JSON.stringify({ main: outfile, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, execArgv }));
  // The code cache is made under the same V8 flags the binary runs with: V8 rejects a cache made
  // under other flags (a warning at every start, and a slower start).
  execFileSync(nodeBinary, [...execArgv, '--experimental-sea-config', seaConfig], { stdio: 'ignore' });

  const binary = join(binDir, `teleport-${plugin}`);
  rmSync(binary, { force: true });
  copyFileSync(nodeBinary, binary);
  chmodSync(binary, 0o755);
  try {
    execFileSync('strip', [binary], { stdio: 'ignore' }); // ~10% smaller; optional
  } catch {}
  execFileSync(
    process.execPath,
    [requireRoot.resolve('postject/dist/cli.js'), binary, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'],
    { stdio: 'ignore' },
  );

  // Release tarball: binary, example config, systemd unit and an install script.
  const stage = join(releaseDir, `teleport-${plugin}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  copyFileSync(binary, join(stage, `teleport-${plugin}`));
  chmodSync(join(stage, `teleport-${plugin}`), 0o755);
  writeFileSync(join(stage, `teleport-${plugin}.toml`), exampleConfig(binary, plugin));
  copyFileSync(join(ROOT, 'deploy/systemd', `teleport-${plugin}.service`), join(stage, `teleport-${plugin}.service`));
  copyFileSync(join(ROOT, 'deploy/install'), join(stage, 'install'));
  chmodSync(join(stage, 'install'), 0o755);
  const tarball = join(releaseDir, `teleport-${plugin}-v${version}-linux-${process.arch === 'x64' ? 'amd64' : process.arch}-bin.tar.gz`);
  execFileSync('tar', ['-czf', tarball, '-C', releaseDir, `teleport-${plugin}`]);
  console.log(`built ${binary} and ${tarball}`);
}

/** The example config the binary prints; msteams' `configure` writes a directory instead. */
function exampleConfig(binary, plugin) {
  if (plugin !== 'msteams') return execFileSync(binary, ['configure'], { encoding: 'utf8' });
  const dir = join(mkdtempSync(join(tmpdir(), 'msteams-configure-')), 'assets');
  execFileSync(binary, ['configure', dir, '--appID', 'YOUR-AZURE-APP-ID', '--tenantID', 'YOUR-AZURE-TENANT-ID', '--appSecret', 'YOUR-AZURE-APP-SECRET'], { stdio: 'ignore' });
  return readFileSync(join(dir, 'teleport-msteams.toml'), 'utf8');
}
