/**
 * `startSandbox()`: a Teleport-compatible Auth server on 127.0.0.1 for tests and the demo,
 * with its own CAs, credential writers in Teleport's formats, cluster administration
 * (requests, reviews, roles, users, rules) and fault injection. See docs/sandbox.md.
 */
import * as grpc from '@grpc/grpc-js';
import { ADMIN_PERMISSIONS, AuthServer, type Faults, PLUGIN_PERMISSIONS, type Permissions } from './auth-server.js';
import { type ClusterPki, type CredentialOptions, issueCredentials, writeIdentityFile, writeTbotDir, writeTlsFiles } from './credentials.js';
import { createCa, issueCert } from './pki.js';
import { type ProxyFront, type ProxyFrontOptions, startProxyFront } from './proxy-front.js';
import { createSshCa } from './ssh-cert.js';
import { ClusterStore, type RequestRecord, type RuleRecord } from './store.js';

export { PLUGIN_PERMISSIONS, ADMIN_PERMISSIONS, type Permissions } from './auth-server.js';
export type { RequestRecord, RuleRecord } from './store.js';
export type { CredentialOptions } from './credentials.js';
export { identityFileText, issueCredentials } from './credentials.js';
export { runCommand, runSandboxCli, type SandboxCliIo } from './cli.js';
export { type ProxyFront, type ProxyFrontOptions, parseClientHelloAlpn } from './proxy-front.js';
export { type ConnectProxy, type ConnectProxyOptions, startConnectProxy } from './http-connect-proxy.js';

export interface SandboxOptions {
  clusterName?: string;
  /** Ping's ServerVersion; default 18.0.0. */
  serverVersion?: string;
  /** Enterprise feature flag; when true Ping also returns `proxyPublicAddr`. Default false. */
  advancedWorkflows?: boolean;
  proxyPublicAddr?: string;
  /** Reviews needed to approve / deny; default 1 each. */
  thresholds?: { approve: number; deny: number };
  /** Port to listen on; default 0 (any). */
  port?: number;
}

export interface Sandbox {
  readonly clusterName: string;
  /** `127.0.0.1:<port>` of the Auth gRPC server. */
  readonly authAddr: string;
  /** PEM of the host CA (what clients verify the server against). */
  readonly hostCaPem: string;
  readonly store: ClusterStore;
  readonly faults: Faults & { dropWatchStreams(): void; endWatchStreams(): void };
  /** Certificate CNs that made calls, in order. */
  readonly callers: string[];
  writeIdentity(path: string, options: CredentialOptions): Promise<{ notAfter: Date }>;
  writeTlsFiles(prefix: string, options: CredentialOptions): Promise<{ key: string; crt: string; cas: string }>;
  writeTbotDir(dir: string, options: CredentialOptions): Promise<void>;
  /** Grants a user permissions (default for unknown users: the access-plugin set; `admin` is admin). */
  setPermissions(user: string, permissions: Partial<Permissions>): void;
  addRole(role: { name: string; logins: string[] }): void;
  addUser(user: { name: string; roles: string[]; traits?: Record<string, string[]> }): void;
  addNode(node: { name: string; hostname: string }): void;
  upsertRule(rule: RuleRecord): void;
  deleteRule(name: string): void;
  createRequest(input: { user: string; roles: string[]; reason?: string; suggestedReviewers?: string[]; resources?: string[]; ttlMs?: number }): Promise<string>;
  review(id: string, review: { author: string; state: 'APPROVED' | 'DENIED'; reason?: string }): Promise<RequestRecord>;
  approve(id: string, reason?: string): Promise<void>;
  deny(id: string, reason?: string): Promise<void>;
  promote(id: string, reason?: string): Promise<void>;
  /** Deletes the request (what the plugins see when a request expires). */
  expire(id: string): Promise<void>;
  get(id: string): RequestRecord | undefined;
  pluginData(id: string, plugin: string): Record<string, string> | undefined;
  /** Seeds plugin data, e.g. as a Go daemon would have written it. */
  setPluginData(id: string, plugin: string, data: Record<string, string>): void;
  /**
   * Starts a Proxy in front of this Auth server: TLS routing by ALPN, `/webapi/find`, the
   * connection upgrade (see proxy-front.ts). Closed with the sandbox.
   */
  startProxy(options?: Omit<ProxyFrontOptions, 'clusterName' | 'authAddr' | 'serverVersion' | 'webCa'>): Promise<ProxyFront>;
  /** Stops and restarts the gRPC server on the same port; cluster state is kept. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const clusterName = options.clusterName ?? 'sandbox.test';
  const pki: ClusterPki = {
    clusterName,
    hostCa: await createCa(clusterName, 'host'),
    userCa: await createCa(clusterName, 'user'),
    sshUserCa: createSshCa(),
    sshHostCa: createSshCa(),
  };
  const serverCert = await issueCert(pki.hostCa, {
    subject: `CN=auth.${clusterName}, O=Auth`,
    dns: ['teleport.cluster.local', '*.teleport.cluster.local', 'localhost'],
    ips: ['127.0.0.1'],
    ttlMs: 365 * 24 * 3600_000,
    usage: 'server',
  });
  const store = new ClusterStore(clusterName, options.thresholds);
  store.roles.set('editor', { name: 'editor', logins: ['root', 'ubuntu'] });
  const permissions = new Map<string, Permissions>([['admin', ADMIN_PERMISSIONS]]);
  const auth = new AuthServer({
    store,
    serverVersion: options.serverVersion ?? '18.0.0',
    advancedWorkflows: options.advancedWorkflows ?? false,
    proxyPublicAddr: options.advancedWorkflows ? (options.proxyPublicAddr ?? `teleport.${clusterName}:443`) : (options.proxyPublicAddr ?? ''),
    permissionsOf: (user) => permissions.get(user) ?? PLUGIN_PERMISSIONS,
  });

  let server: grpc.Server;
  let port = options.port ?? 0;
  const listen = async () => {
    server = new grpc.Server({ 'grpc.keepalive_permit_without_calls': 1, 'grpc.enable_channelz': 0 });
    auth.register(server);
    const creds = grpc.ServerCredentials.createSsl(
      Buffer.from(pki.userCa.pem),
      [{ private_key: Buffer.from(serverCert.key.pem), cert_chain: Buffer.from(serverCert.certPem) }],
      true,
    );
    port = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, creds, (e, p) => (e ? reject(e) : resolve(p))));
  };
  await listen();
  // Captures the server: after a restart `server` is the new one, which the timer must not kill.
  const shutdown = () =>
    new Promise<void>((resolve) => {
      const current = server;
      auth.dropWatchStreams();
      const timer = setTimeout(() => {
        current.forceShutdown();
        resolve();
      }, 1000).unref();
      current.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  const credentials = (o: CredentialOptions) => issueCredentials(pki, o);
  const faults = Object.assign(auth.faults, {
    dropWatchStreams: () => auth.dropWatchStreams(),
    endWatchStreams: () => auth.endWatchStreams(),
  });

  const fronts: ProxyFront[] = [];
  let webCa: ReturnType<typeof createCa> | undefined;
  const sandbox: Sandbox = {
    clusterName,
    get authAddr() {
      return `127.0.0.1:${port}`;
    },
    hostCaPem: pki.hostCa.pem,
    store,
    faults,
    callers: auth.callers,
    async writeIdentity(path, o) {
      const c = await credentials(o);
      await writeIdentityFile(path, c);
      return { notAfter: c.notAfter };
    },
    async writeTlsFiles(prefix, o) {
      return writeTlsFiles(prefix, await credentials(o));
    },
    async writeTbotDir(dir, o) {
      await writeTbotDir(dir, await credentials(o), pki.userCa.pem);
    },
    setPermissions(user, p) {
      permissions.set(user, { ...(permissions.get(user) ?? PLUGIN_PERMISSIONS), ...p });
    },
    addRole: (role) => void store.roles.set(role.name, role),
    addUser: (user) => void store.users.set(user.name, { traits: {}, ...user }),
    addNode: (node) => void store.nodes.set(node.name, node),
    upsertRule: (rule) => store.upsertRule(rule),
    deleteRule: (name) => store.deleteRule(name),
    async createRequest(input) {
      return store.createRequest(input).id;
    },
    async review(id, r) {
      return store.review(id, { author: r.author, state: r.state, reason: r.reason ?? '' });
    },
    async approve(id, reason = '') {
      store.setState(id, 'APPROVED', reason);
    },
    async deny(id, reason = '') {
      store.setState(id, 'DENIED', reason);
    },
    async promote(id, reason = '') {
      store.setState(id, 'PROMOTED', reason);
    },
    async expire(id) {
      store.deleteRequest(id);
    },
    get: (id) => store.requests.get(id),
    pluginData: (id, plugin) => store.getPluginData(id, plugin),
    setPluginData(id, plugin, data) {
      const entries = store.pluginData.get(id) ?? new Map();
      entries.set(plugin, { ...data });
      store.pluginData.set(id, entries);
    },
    async startProxy(o = {}) {
      // One web CA per cluster, so a Proxy restarted in a test keeps the certificate trusted.
      webCa ??= createCa(`web.${clusterName}`, 'web');
      const front = await startProxyFront({ ...o, webCa: await webCa, clusterName, serverVersion: options.serverVersion ?? '18.0.0', authAddr: () => `127.0.0.1:${port}` });
      fronts.push(front);
      return front;
    },
    async restart() {
      await shutdown();
      await listen();
    },
    stop: shutdown,
    async close() {
      await Promise.all(fronts.splice(0).map((f) => f.close()));
      await shutdown();
    },
  };
  return sandbox;
}
