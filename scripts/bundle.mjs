// The esbuild bundle the shipped binaries run (one minified CJS file, the protos embedded as a
// JSON descriptor). Used by build-sea.mjs for the single executables and by bench.mjs, so the
// benchmark measures the engine as it ships.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const requireCore = createRequire(join(ROOT, 'packages/core/package.json'));
const requireRoot = createRequire(join(ROOT, 'package.json'));

/** The protos as a protobufjs JSON descriptor (what proto-loader's fromJSON takes). */
function protoDescriptor() {
  const protobuf = requireCore('protobufjs');
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

let descriptor;

/** Bundles `entry` into `outfile`; `define` adds to the build's replacements. */
export async function bundle({ entry, outfile, define = {} }) {
  descriptor ??= JSON.stringify(protoDescriptor());
  await requireRoot('esbuild').build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    outfile,
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [emptyModule],
    define: {
      __TAP_PROTO_JSON__: descriptor,
      'import.meta.url': '__tap_import_meta_url',
      ...define,
    },
    banner: { js: 'const __tap_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  });
}
