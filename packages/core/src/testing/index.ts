// Test helpers for @tap/core and the channel packages (`@tap/core/testing`).
export * from './recording-messenger.js';
export * from './plugin-harness.js';
export * from './sandbox-handle.js';
export * from './conformance.js';
export * from './run-cli.js';
