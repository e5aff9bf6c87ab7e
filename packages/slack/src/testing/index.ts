export * from './fake-slack.js';
