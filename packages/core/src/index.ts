// Public API of @tap/core: re-exports only.
export * from './channel.js';
export * from './cli-types.js';
export * from './config-types.js';
export * from './errors.js';
export * from './plugin-types.js';
export * from './teleport/client.js';
export * from './teleport/types.js';
export * from './teleport/proto.js';
export * from './plugin.js';
export * from './teleport/connect.js';
export * from './metrics.js';
export * from './http-server.js';
