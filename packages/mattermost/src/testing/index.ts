export * from './fake-mattermost.js';
