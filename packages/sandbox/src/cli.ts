/**
 * `tap-sandbox`: a throw-away Teleport-compatible cluster for trying the plugins, like a tiny
 * `tctl`. `start` runs the Auth server, writes credentials for a plugin into a directory and
 * then reads commands, one per line, from stdin:
 *
 *   create <user> <role[,role…]> [reason…]     → prints the request id
 *   review <id> <author> approve|deny [reason…]
 *   approve <id> [reason…] | deny <id> [reason…] | promote <id> | expire <id>
 *   list | get <id> | data <id> <plugin> | quit
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { type Sandbox, startSandbox } from './index.js';

export interface SandboxCliIo {
  input: NodeJS.ReadableStream;
  output: { write(text: string): unknown };
}

const USAGE = `usage: tap-sandbox start [--dir DIR] [--port PORT] [--cluster NAME] [--user PLUGIN_USER] [--proxy-public-addr HOST:PORT] [--thresholds N]
                         [--web-proxy PORT [--web-proxy-mode alpn|strip-alpn]]
Starts a sandbox cluster, writes DIR/identity (an identity file) and DIR/auth.{key,crt,cas}
for PLUGIN_USER (default access-plugin), then reads commands from stdin.
--web-proxy also starts a Proxy with TLS routing on PORT (0: any) and writes its web CA to
DIR/web-ca.pem; strip-alpn puts an ALPN-stripping load balancer in front of it.
Commands:
  create <user> <role[,role…]> [reason…]      review <id> <author> approve|deny [reason…]
  approve <id> [reason…]   deny <id> [reason…]   promote <id>   expire <id>
  list   get <id>   data <id> <plugin>   quit
`;

function flags(args: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${a} needs a value`);
    out.set(a.slice(2), value);
    i++;
  }
  return out;
}

/** Runs one command line against the sandbox; returns what to print. */
export async function runCommand(sandbox: Sandbox, line: string): Promise<string> {
  const [cmd, ...rest] = line.trim().split(/\s+/);
  const reason = (from: number) => rest.slice(from).join(' ');
  switch (cmd) {
    case 'create': {
      if (rest.length < 2) return 'usage: create <user> <role[,role…]> [reason…]';
      return sandbox.createRequest({ user: rest[0]!, roles: rest[1]!.split(','), reason: reason(2) });
    }
    case 'review': {
      const state = rest[2] === 'approve' ? 'APPROVED' : rest[2] === 'deny' ? 'DENIED' : undefined;
      if (!rest[0] || !rest[1] || !state) return 'usage: review <id> <author> approve|deny [reason…]';
      const r = await sandbox.review(rest[0], { author: rest[1], state, reason: reason(3) });
      return `${r.id} ${r.state}`;
    }
    case 'approve':
    case 'deny':
    case 'promote':
      if (!rest[0]) return `usage: ${cmd} <id> [reason…]`;
      await sandbox[cmd](rest[0], reason(1));
      return `${rest[0]} ${cmd === 'approve' ? 'APPROVED' : cmd === 'deny' ? 'DENIED' : 'PROMOTED'}`;
    case 'expire':
      if (!rest[0]) return 'usage: expire <id>';
      await sandbox.expire(rest[0]);
      return `${rest[0]} deleted`;
    case 'list':
      return [...sandbox.store.requests.values()].map((r) => `${r.id} ${r.user} ${r.roles.join(',')} ${r.state}`).join('\n') || '(no requests)';
    case 'get':
      return JSON.stringify(sandbox.get(rest[0] ?? ''), null, 2) ?? 'not found';
    case 'data':
      return JSON.stringify(sandbox.pluginData(rest[0] ?? '', rest[1] ?? ''), null, 2) ?? '(none)';
    case '':
    case undefined:
      return '';
    default:
      return `unknown command "${cmd}"`;
  }
}

/** `tap-sandbox …`; resolves with the exit code once stdin ends or `quit` is read. */
export async function runSandboxCli(argv: string[], io: SandboxCliIo = { input: process.stdin, output: process.stdout }): Promise<number> {
  const out = (text: string) => io.output.write(`${text}\n`);
  if (argv[0] !== 'start') {
    io.output.write(USAGE);
    return argv[0] === 'help' || argv[0] === '--help' ? 0 : 1;
  }
  let opts: Map<string, string>;
  try {
    opts = flags(argv.slice(1));
  } catch (err) {
    out(`tap-sandbox: ${(err as Error).message}`);
    return 1;
  }
  const dir = resolve(opts.get('dir') ?? 'sandbox-credentials');
  const user = opts.get('user') ?? 'access-plugin';
  const threshold = Number(opts.get('thresholds') ?? 1);
  const proxyMode = opts.get('web-proxy-mode') ?? 'alpn';
  if (proxyMode !== 'alpn' && proxyMode !== 'strip-alpn') {
    out(`tap-sandbox: --web-proxy-mode must be alpn or strip-alpn, not "${proxyMode}"`);
    return 1;
  }
  const sandbox = await startSandbox({
    clusterName: opts.get('cluster') ?? 'sandbox.test',
    port: Number(opts.get('port') ?? 0),
    advancedWorkflows: opts.has('proxy-public-addr'),
    proxyPublicAddr: opts.get('proxy-public-addr'),
    thresholds: { approve: threshold, deny: threshold },
  });
  await mkdir(dir, { recursive: true });
  await sandbox.writeIdentity(join(dir, 'identity'), { user, roles: ['access-plugin'] });
  await sandbox.writeTlsFiles(join(dir, 'auth'), { user, roles: ['access-plugin'] });
  out(`Sandbox cluster "${sandbox.clusterName}" is running.`);
  out(`  [teleport] addr = "${sandbox.authAddr}"`);
  out(`  identity = "${join(dir, 'identity')}"   (or client_key/client_crt/root_cas = ${join(dir, 'auth')}.{key,crt,cas})`);
  if (opts.has('web-proxy')) {
    const front = await sandbox.startProxy({ port: Number(opts.get('web-proxy')), stripAlpn: proxyMode === 'strip-alpn' });
    await writeFile(join(dir, 'web-ca.pem'), front.webCaPem);
    out(`Proxy with TLS routing${proxyMode === 'strip-alpn' ? ' behind an ALPN-stripping load balancer' : ''}:`);
    out(`  [teleport] addr = "${front.addr}"   with SSL_CERT_FILE=${join(dir, 'web-ca.pem')}`);
  }
  out('Type commands (create, review, approve, deny, promote, expire, list, get, data, quit):');
  const lines = createInterface({ input: io.input, terminal: false });
  for await (const line of lines) {
    if (line.trim() === 'quit') break;
    try {
      const result = await runCommand(sandbox, line);
      if (result) out(result);
    } catch (err) {
      out(`error: ${(err as Error).message}`);
    }
  }
  await sandbox.close();
  return 0;
}
