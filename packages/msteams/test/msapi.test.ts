// The Microsoft client against the HTTPS fake: SDK token, Graph and connector calls, the
// scopes, our retries (429 Retry-After, 5xx, token endpoint) counted once each with the SDKs'
// own retries off, TLS trust through ca_file only, and Entra's words on a wrong secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturedLog } from '@tap/core/testing';
import { type BotActivity, type MsTeamsSection, MsApi, MsApiError, parseMsTeamsConfig } from '@tap/msteams';
import { parseConfig } from '@tap/core';
import { msteams } from '@tap/msteams';
import { FAKE_BOT_SCOPE, FAKE_GRAPH_SCOPE, FakeMsTeams } from '../src/testing/fake-msteams.js';

let fake: FakeMsTeams;
let chat: string;
let lead: string;

beforeAll(async () => {
  fake = await FakeMsTeams.start();
  lead = fake.addUser('lead@example.com');
  fake.addUser("o'brien+teams@example.com");
  const url = new URL(fake.addChannel('Access Requests'));
  chat = decodeURIComponent(url.pathname.split('/')[3]!);
});
afterAll(() => fake.close());

const section = (over: Partial<MsTeamsSection> = {}): MsTeamsSection => fake.section(over);

function client(over: Partial<MsTeamsSection> = {}) {
  const log = new CapturedLog();
  const metrics = { retried: 0, waits: [] as number[] };
  const api = new MsApi(section(over), log.logger, { retried: () => void metrics.retried++, rateLimited: (ms) => void metrics.waits.push(ms) });
  return { api, log, metrics };
}

const activity = (text: string): BotActivity => ({
  type: 'message',
  from: { id: '29:inst', name: 'TeleBot' },
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.2', body: [{ type: 'TextBlock', text }] } }],
});

/** Requests the fake saw since `from` (an index into fake.requests). */
const since = (from: number) => fake.requests.slice(from);
const signal = () => AbortSignal.timeout(20_000);

describe('Microsoft APIs through the SDKs', () => {
  it('gets one token per scope from Entra ID and presents each to its own service', async () => {
    const from = fake.requests.length;
    const { api } = client();
    expect((await api.teamsApp(signal())).id).toBe(fake.catalogId);
    expect(await api.userIdByEmail('lead@example.com', signal())).toBe(lead);
    const id = await api.postActivity(chat, activity('hello'), signal());
    await api.updateActivity(chat, id, activity('hello again'), signal());
    expect(fake.activity(id)?.edits).toHaveLength(1);

    const seen = since(from);
    const tokens = seen.filter((r) => r.path.endsWith('/oauth2/v2.0/token'));
    expect(tokens).toHaveLength(2); // cached by the SDK after the first of each scope
    expect(seen.filter((r) => r.path.startsWith('/v1.0/')).every((r) => r.scope === FAKE_GRAPH_SCOPE)).toBe(true);
    const bot = seen.filter((r) => r.path.startsWith('/emea/v3/'));
    expect(bot.map((r) => `${r.method} ${r.path}`)).toStrictEqual([`POST /emea/v3/conversations/${chat}/activities`, `PUT /emea/v3/conversations/${chat}/activities/${id}`]);
    expect(bot.every((r) => r.scope === FAKE_BOT_SCOPE)).toBe(true);
    // The filter reaches Graph as OData.
    expect(seen.find((r) => r.path === '/v1.0/users')?.query).toStrictEqual({ $filter: "mail eq 'lead@example.com'" });
    await api.close();
  });

  it('quotes OData literals: a mail with an apostrophe and a plus sign is found', async () => {
    const { api } = client();
    await expect(api.userIdByEmail("o'brien+teams@example.com", signal())).resolves.toMatch(/^U\d+-/);
    await expect(api.userIdByEmail("x' or mail ne 'y", signal())).rejects.toThrow("User by email x' or mail ne 'y not found");
  });

  it('waits out a 429 from the connector for Retry-After, once, and counts it (the SDK does not retry on its own)', async () => {
    const { api, metrics, log } = client();
    fake.failNext(`POST /emea/v3/conversations/${chat}/activities`, 429, 1, 1);
    const from = fake.requests.length;
    const started = Date.now();
    const id = await api.postActivity(chat, activity('throttled'), signal());
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.activity(id)).toBeDefined();
    expect(since(from).filter((r) => r.path.includes('/activities')).map((r) => r.status)).toStrictEqual([429, 201]);
    expect(metrics).toStrictEqual({ retried: 0, waits: [1000] });
    expect(log.find('Microsoft API call failed, retrying')[0]).toMatchObject({ status: 429, delay_ms: 1000, attempt: 1 });
  });

  it('retries Graph 5xx with backoff, each retry counted, one request per attempt', async () => {
    const { api, metrics } = client();
    fake.failNext('GET /v1.0/appCatalogs/teamsApps', 503, 2);
    const from = fake.requests.length;
    expect((await api.teamsApp(signal())).id).toBe(fake.catalogId);
    expect(since(from).filter((r) => r.path === '/v1.0/appCatalogs/teamsApps').map((r) => r.status)).toStrictEqual([503, 503, 200]);
    expect(metrics.retried).toBe(2);
    expect(metrics.waits).toStrictEqual([]);
  });

  it('retries a connector 5xx itself (no SDK retry underneath)', async () => {
    const { api, metrics } = client();
    fake.failNext(`PUT /emea/v3/conversations/${chat}/activities`, 502, 1);
    const id = await api.postActivity(chat, activity('v1'), signal());
    const from = fake.requests.length;
    await api.updateActivity(chat, id, activity('v2'), signal());
    expect(since(from).filter((r) => r.method === 'PUT').map((r) => r.status)).toStrictEqual([502, 200]);
    expect(metrics.retried).toBe(1);
  });

  it('bounds Retry-After at 30 s and gives up at the caller deadline', async () => {
    const { api, metrics } = client();
    fake.failNext('GET /v1.0/users', 429, 1, 3600);
    const err = await api.userIdByEmail('lead@example.com', AbortSignal.timeout(1_500)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MsApiError);
    expect((err as MsApiError).message).toMatch(/^TooManyRequests .*\(HTTP 429 from GET Graph users\) \(gave up: deadline reached\)$/);
    expect((err as MsApiError).recoverable).toBe(true);
    expect(metrics.waits).toStrictEqual([30_000]);
  });

  it('keeps retrying 5xx only until the deadline', async () => {
    const { api, metrics } = client();
    fake.failNext(`POST /emea/v3/conversations/${chat}/activities`, 500, 1000);
    const err = await api.postActivity(chat, activity('x'), AbortSignal.timeout(1_200)).catch((e: unknown) => e);
    const served = 1000 - fake.clearFailures();
    expect((err as MsApiError).message).toMatch(/ServiceUnavailable .*\(HTTP 500 from POST Bot Framework conversations\/.*\/activities\) \(gave up: deadline reached\)/);
    expect(metrics.retried).toBe(served);
    expect(served).toBeGreaterThan(1);
    expect(served).toBeLessThan(40);
  });

  it('retries the token endpoint after a 5xx and after a 429 (MSAL would refuse locally for a minute otherwise)', async () => {
    const { api, metrics } = client();
    fake.failNext('/oauth2/v2.0/token', 503, 1);
    fake.failNext('/oauth2/v2.0/token', 429, 1, 1);
    const from = fake.requests.length;
    expect((await api.teamsApp(signal())).id).toBe(fake.catalogId);
    expect(since(from).filter((r) => r.path.endsWith('/token')).map((r) => r.status)).toStrictEqual([503, 429, 200]);
    expect(metrics.retried).toBe(1);
    expect(metrics.waits).toStrictEqual([1000]);
  });

  it("fails at once on a wrong secret, with Entra's words and no secret", async () => {
    const { api, log } = client({ appSecret: 'wrong-secret-value' });
    const from = fake.requests.length;
    const err = (await api.teamsApp(signal()).catch((e: unknown) => e)) as MsApiError;
    expect(err.message).toMatch(/^Failed to get auth token 401 https:\/\/graph.microsoft.com\/.default invalid_client: AADSTS7000215: Invalid client secret provided/);
    expect(err.recoverable).toBe(false);
    expect(err.msCode).toBe('invalid_client');
    expect(since(from).filter((r) => r.path.endsWith('/token'))).toHaveLength(1);
    expect(JSON.stringify(log.lines)).not.toContain('wrong-secret-value');
  });

  it('an unknown tenant is reported as Entra words it', async () => {
    const { api } = client({ tenantId: '00000000-0000-0000-0000-000000000000' });
    await expect(api.teamsApp(signal())).rejects.toThrow(/^Failed to get auth token 400 https:\/\/graph.microsoft.com\/.default invalid_tenant: AADSTS90002: Tenant '00000000-0000-0000-0000-000000000000' not found/);
  });

  it('does not trust the fake without its CA, and says how to fix it', async () => {
    const { api } = client({ caPem: undefined });
    const from = fake.requests.length;
    const err = (await api.teamsApp(signal()).catch((e: unknown) => e)) as MsApiError;
    expect(err).toBeInstanceOf(MsApiError);
    expect(err.message).toContain(`cannot reach ${fake.url}: `);
    expect(err.message).toContain('[msapi] ca_file or NODE_EXTRA_CA_CERTS');
    expect(err.recoverable).toBe(true);
    expect(since(from)).toHaveLength(0);
  });

  it('a Graph 404 keeps the service code and the HTTP status', async () => {
    const { api } = client();
    const err = (await api.chatOf(lead, 'no-such-installation', signal()).catch((e: unknown) => e)) as MsApiError;
    expect(err.message).toBe('NotFound Installation not found (HTTP 404 from GET Graph users/' + lead + '/teamwork/installedApps/no-such-installation/chat)');
    expect(err.status).toBe(404);
    expect(err.msCode).toBe('NotFound');
  });

  it('a connector 404 keeps the Bot Framework code', async () => {
    const { api } = client();
    const err = (await api.postActivity('19:nope@thread.tacv2', activity('x'), signal()).catch((e: unknown) => e)) as MsApiError;
    expect(err.message).toBe('ConversationNotFound Conversation not found. (HTTP 404 from POST Bot Framework conversations/19:nope@thread.tacv2/activities)');
    expect(err.msCode).toBe('ConversationNotFound');
  });
});

describe('secrets', () => {
  it('no error of the client, logged with its causes, carries the secret or a token', async () => {
    const { api, log } = client();
    const errors: unknown[] = [];
    const keep = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => void errors.push(e));
    await keep(api.postActivity('19:nope@thread.tacv2', activity('x'), signal()));
    await keep(api.chatOf(lead, 'nope', signal()));
    fake.failNext('GET /v1.0/users', 400, 1);
    await keep(api.userIdByEmail('lead@example.com', signal()));
    await keep(client({ appSecret: `${fake.appSecret}-old` }).api.teamsApp(signal()));
    await keep(client({ caPem: undefined }).api.teamsApp(signal()));
    await keep(client({ loginEndpoint: 'https://127.0.0.1:1' }).api.teamsApp(signal()));
    expect(errors).toHaveLength(6);
    for (const err of errors) log.logger.error({ err }, 'failed');
    const text = JSON.stringify(log.lines);
    expect(text).toContain('cannot reach https://127.0.0.1:1: ECONNREFUSED');
    expect(text).not.toContain(fake.appSecret);
    for (const token of fake.issuedTokens()) expect(text).not.toContain(token);
    expect(text).not.toMatch(/client_secret|Bearer /i);
  });
});

describe('[msapi] endpoints and ca_file', () => {
  const toml = (extra: string) => `[teleport]\naddr = "127.0.0.1:3025"\nidentity = "/tmp/x"\n[msapi]\napp_id = "a"\napp_secret = "s"\ntenant_id = "t"\nteams_app_id = "x"\n${extra}\n[role_to_recipients]\n"*" = ["a@example.com"]\n`;

  it('reads the CA file and refuses plain-HTTP endpoints', () => {
    expect(parseConfig(msteams, 'x.toml', toml(`ca_file = "${fake.caFile}"`)).section.caPem).toBe(fake.caPem);
    expect(() => parseConfig(msteams, 'x.toml', toml('graph_endpoint = "http://127.0.0.1:1/v1.0"'))).toThrow(/msapi.graph_endpoint.*must be an https URL/);
    expect(() => parseConfig(msteams, 'x.toml', toml('ca_file = "/nonexistent/ca.pem"'))).toThrow(/cannot read \/nonexistent\/ca.pem: ENOENT/);
    void parseMsTeamsConfig;
  });
});
