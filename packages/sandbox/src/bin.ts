#!/usr/bin/env node
import { runSandboxCli } from './cli.js';

void runSandboxCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
