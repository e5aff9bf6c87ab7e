export * from './test-smtp-server.js';
export * from './fake-mailgun.js';
