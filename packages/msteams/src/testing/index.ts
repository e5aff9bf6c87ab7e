export * from './fake-msteams.js';
