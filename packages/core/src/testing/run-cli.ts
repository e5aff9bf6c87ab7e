/** Runs a channel's CLI in-process (as `teleport-<x> …argv`) and captures its output. */
import type { ChannelDefinition } from '../channel.js';
import { runPluginCli } from '../cli.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli<Section>(channel: ChannelDefinition<Section>, ...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runPluginCli(channel, {
    argv,
    io: { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: {} },
    handleSignals: false,
  });
  return { code, stdout, stderr };
}
