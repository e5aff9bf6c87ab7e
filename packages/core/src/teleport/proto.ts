import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * Set by the single-executable build (esbuild `define`): the protos as a protobufjs JSON
 * descriptor, so the binary needs no `proto/` folder next to it.
 */
declare const __TAP_PROTO_JSON__: Record<string, unknown> | undefined;

/** The repository's `proto/` folder (same depth from src/ and dist/); empty inside a bundle. */
export const PROTO_DIR = (() => {
  try {
    return fileURLToPath(new URL('../../../../proto/', import.meta.url));
  } catch {
    return '';
  }
})();

/** Files loaded from `PROTO_DIR` (their imports are resolved from there too). */
export const PROTO_FILES = [
  'teleport/legacy/client/proto/authservice.proto',
  'teleport/accessmonitoringrules/v1/access_monitoring_rules.proto',
  'teleport/users/v1/users_service.proto',
];

/**
 * Decoding options shared by the client and the sandbox server: Teleport's PascalCase field
 * names kept as written, int64 as strings, enums as names (unknown numbers stay numbers),
 * zero values filled in, and the name of the set oneof member exposed.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: grpc.GrpcObject | undefined;

/** Loads the wire-identical Teleport protos once per process. */
export function loadTeleportProtos(): grpc.GrpcObject {
  if (!cached) {
    const definition =
      typeof __TAP_PROTO_JSON__ !== 'undefined'
        ? protoLoader.fromJSON(__TAP_PROTO_JSON__, PROTO_LOADER_OPTIONS)
        : protoLoader.loadSync(PROTO_FILES, { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
    cached = grpc.loadPackageDefinition(definition);
  }
  return cached;
}

type ServiceCtor = grpc.ServiceClientConstructor;

/** The three gRPC services the plugins and the sandbox use. */
export function teleportServices(): {
  AuthService: ServiceCtor;
  AccessMonitoringRulesService: ServiceCtor;
  UsersService: ServiceCtor;
} {
  const root = loadTeleportProtos() as any;
  return {
    AuthService: root.proto.AuthService,
    AccessMonitoringRulesService: root.teleport.accessmonitoringrules.v1.AccessMonitoringRulesService,
    UsersService: root.teleport.users.v1.UsersService,
  };
}
