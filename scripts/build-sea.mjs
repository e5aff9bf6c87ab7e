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

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['slack', 'mattermost', 'discord', 'email', 'msteams'];
const plugins = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
const requireCore = createRequire(join(ROOT, 'packages/core/package.json'));
const requireRoot = createRequire(join(ROOT, 'package.json'));
const esbuild = requireRoot('esbuild');
const protobuf = requireCore('protobufjs');
const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

function gitRef() {
  try {
    return execFileSync('git', ['describe', '--tags', '--always', '--dirty'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** The protos as a protobufjs JSON descriptor (what proto-loader's fromJSON takes). */
function protoDescriptor() {
  const protoDir = join(ROOT, 'proto');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : join(protoDir, target));
  root.loadSync(
    ['teleport/legacy/client/proto/authservice.proto', 'teleport/accessmonitoringrules/v1/access_monitoring_rules.proto', 'teleport/users/v1/users_service.proto'],
    { keepCase: true },
  );
  return root.toJSON();
}

// Optional modules some dependencies try to load inside try/catch; a SEA can only require
// built-ins, so they are replaced by an empty module instead of producing a warning.
// `debug` is called unconditionally by some (the Azure SDK's proxy agents), so it becomes a
// silent logger factory rather than an empty module.
const OPTIONAL = ['bufferutil', 'utf-8-validate', 'supports-color', 'encoding', 'pino-pretty', 'aws-crt', 'debug'];
const STUBS = {
  debug:
    'const d = () => Object.assign(() => {}, { enabled: false, extend: () => d(), log: () => {} }); ' +
    'module.exports = Object.assign(d, { default: d, enable() {}, disable: () => "", enabled: () => false });',
};
const emptyModule = {
  name: 'optional-empty',
  setup(build) {
    const filter = new RegExp(`^(${OPTIONAL.join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'optional-empty' }));
    build.onLoad({ filter: /.*/, namespace: 'optional-empty' }, (args) => ({ contents: STUBS[args.path] ?? 'module.exports = {};' }));
  },
};

const outDir = join(ROOT, 'dist');
const bundleDir = join(outDir, 'sea');
const binDir = join(outDir, 'bin');
const releaseDir = join(outDir, 'release');
for (const d of [bundleDir, binDir, releaseDir]) mkdirSync(d, { recursive: true });
const descriptor = JSON.stringify(protoDescriptor());
const ref = gitRef();
const nodeBinary = process.execPath;
if (!process.version.startsWith('v24.')) console.warn(`warning: building with Node ${process.version}; the project pins Node 24 (run through pnpm)`);

for (const plugin of plugins) {
  const entry = join(ROOT, 'packages', plugin, 'src', 'bin.ts');
  if (!existsSync(entry)) throw new Error(`no ${entry}`);
  const bundle = join(bundleDir, `teleport-${plugin}.cjs`);
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    outfile: bundle,
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [emptyModule],
    define: {
      __TAP_PROTO_JSON__: descriptor,
      'import.meta.url': '__tap_import_meta_url',
      'process.env.TAP_GIT_REF': JSON.stringify(ref),
    },
    banner: { js: 'const __tap_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  });

  const blob = join(bundleDir, `teleport-${plugin}.blob`);
  const seaConfig = join(bundleDir, `teleport-${plugin}.sea.json`);
  const { execArgv } = JSON.parse(readFileSync(join(ROOT, 'deploy/node-options.json'), 'utf8'));
  writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, execArgv }));
  execFileSync(nodeBinary, ['--experimental-sea-config', seaConfig], { stdio: 'ignore' });

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
