/**
 * Loads a plugin's TOML config: Teleport's keys and error texts for `[teleport]`, `[log]` and
 * `[role_to_recipients]`, our `[http]`, and the channel's own section(s) through a
 * `ConfigReader`. Every problem is collected and reported together with its key path, in one
 * `ConfigError`; unknown keys are warnings.
 */
import { readFileSync } from 'node:fs';
import TOML from '@iarna/toml';
import type { ChannelDefinition, ConfigReader, RecipientsMap } from './channel.js';
import type { LogConfig, PluginConfig, TeleportConfig } from './config-types.js';
import { parseGoDuration } from './duration.js';
import { ConfigError } from './errors.js';

type Table = Record<string, unknown>;

const typeName = (v: unknown) =>
  v === undefined ? 'nothing' : Array.isArray(v) ? 'an array' : v instanceof Date ? 'a date' : typeof v === 'object' ? 'a table' : `${typeof v === 'number' ? 'a number' : `a ${typeof v}`} (${JSON.stringify(v)})`;

/** Reads dotted paths of a parsed TOML document and records problems instead of throwing. */
export class TomlReader implements ConfigReader {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  readonly #seen = new Set<string>();

  constructor(
    readonly file: string,
    private readonly doc: Table,
  ) {}

  #get(path: string): unknown {
    this.#seen.add(path);
    let cur: unknown = this.doc;
    for (const part of splitPath(path)) {
      if (!cur || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
      cur = (cur as Table)[part];
    }
    return cur;
  }

  has(path: string): boolean {
    return this.#get(path) !== undefined;
  }

  accept(path: string): void {
    this.#seen.add(path);
  }

  error(path: string, message: string): void {
    this.errors.push(`${path}: ${message}`);
  }

  warn(path: string, message: string): void {
    this.warnings.push(`${path}: ${message}`);
  }

  string(path: string, options: { required?: boolean; requiredMessage?: string; secret?: boolean; default?: string } = {}): string | undefined {
    const v = this.#get(path);
    if (v !== undefined && typeof v !== 'string') {
      this.error(path, `expected a string, got ${options.secret ? 'a non-string value' : typeName(v)}`);
      return undefined;
    }
    let value = v as string | undefined;
    if (value && options.secret && value.startsWith('/')) {
      try {
        value = readFileSync(value).subarray(0, 2000).toString('utf8').trim();
      } catch {
        this.error(path, `Error reading password from ${value}`);
        return undefined;
      }
    }
    if (!value && options.required) {
      this.errors.push(options.requiredMessage ?? `${path}: missing required value ${path}`);
      return undefined;
    }
    return value || options.default;
  }

  boolean(path: string, options: { default?: boolean } = {}): boolean | undefined {
    const v = this.#get(path);
    if (v === undefined) return options.default;
    if (typeof v !== 'boolean') {
      this.error(path, `expected true or false, got ${typeName(v)}`);
      return options.default;
    }
    return v;
  }

  integer(path: string, options: { default?: number; min?: number; max?: number } = {}): number | undefined {
    const v = this.#get(path);
    if (v === undefined) return options.default;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.error(path, `expected an integer, got ${typeName(v)}`);
      return options.default;
    }
    if ((options.min !== undefined && v < options.min) || (options.max !== undefined && v > options.max)) {
      this.error(path, `${v} is out of range (${options.min ?? '-∞'}..${options.max ?? '∞'})`);
      return options.default;
    }
    return v;
  }

  stringList(path: string): string[] | undefined {
    const v = this.#get(path);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    this.error(path, `expected a string or an array of strings, got ${typeName(v)}`);
    return undefined;
  }

  /** Paths of every leaf (and table) in the document that nothing read or accepted. */
  unknownKeys(ownedTables: string[]): string[] {
    const out: string[] = [];
    const walk = (t: Table, prefix: string) => {
      for (const [k, v] of Object.entries(t)) {
        const path = prefix ? `${prefix}.${k}` : k;
        if (ownedTables.includes(path)) continue;
        if (this.#seen.has(path)) continue;
        if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) walk(v as Table, path);
        else out.push(path);
      }
    };
    walk(this.doc, '');
    return out;
  }
}

function splitPath(path: string): string[] {
  return path.split('.');
}

function parseTeleport(r: TomlReader): TeleportConfig {
  let addr = r.string('teleport.addr');
  const authServer = r.string('teleport.auth_server');
  if (!addr && authServer) {
    r.warn('teleport.auth_server', 'Configuration setting `auth_server` is deprecated, consider to change it to `addr`');
    addr = authServer;
  }
  const identity = r.string('teleport.identity');
  const refreshIdentity = r.boolean('teleport.refresh_identity', { default: false })!;
  const intervalText = r.string('teleport.refresh_identity_interval');
  let refreshIdentityIntervalMs = 60_000;
  if (intervalText !== undefined) {
    const ms = parseGoDuration(intervalText);
    if (ms === undefined || ms <= 0) r.error('teleport.refresh_identity_interval', `invalid duration "${intervalText}" (e.g. "1m", "30s")`);
    else refreshIdentityIntervalMs = ms;
  }
  const clientKey = r.string('teleport.client_key');
  const clientCrt = r.string('teleport.client_crt');
  const rootCas = r.string('teleport.root_cas');
  const tls = { client_crt: clientCrt, client_key: clientKey, root_cas: rootCas };
  const provided = Object.entries(tls).filter(([, v]) => v).map(([k]) => `\`${k}\``);
  const missing = Object.entries(tls).filter(([, v]) => !v).map(([k]) => `\`${k}\``);
  if (provided.length && missing.length) {
    r.error('teleport', `configuration setting(s) ${provided.join(', ')} are provided but setting(s) ${missing.join(', ')} are missing`);
  }
  if (identity && provided.length) {
    r.error('teleport', 'configuration setting `identity` is mutually exclusive with all the `client_crt`, `client_key` and `root_cas` settings');
  }
  if (refreshIdentity && !identity) r.error('teleport.refresh_identity', '`refresh_identity` requires that `identity` be set');
  if (!identity && !provided.length) r.error('teleport', 'no credentials configured (set `identity`, or `client_key`, `client_crt` and `root_cas`)');
  return { addr: addr || 'localhost:3025', identity, refreshIdentity, refreshIdentityIntervalMs, clientKey, clientCrt, rootCas };
}

const SEVERITIES: Record<string, LogConfig['severity']> = {
  info: 'info', err: 'error', error: 'error', debug: 'debug', trace: 'debug', warn: 'warn', warning: 'warn',
};

function parseLog(r: TomlReader): LogConfig {
  const output = r.string('log.output') || 'stderr';
  const severityText = r.string('log.severity') ?? 'info';
  const severity = SEVERITIES[severityText.toLowerCase()];
  if (!severity) r.error('log.severity', `unsupported logger severity: "${severityText}"`);
  const format = r.string('log.format') ?? 'text';
  if (format !== 'text' && format !== 'json' && format !== '') r.error('log.format', `unsupported log output format : "${format}"`);
  return { output, severity: severity ?? 'info', format: format === 'json' ? 'json' : 'text' };
}

function parseRecipients(r: TomlReader, doc: Table): RecipientsMap {
  r.accept('role_to_recipients');
  const raw = doc.role_to_recipients;
  const map: RecipientsMap = {};
  if (raw === undefined) return map;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    r.error('role_to_recipients', `unexpected type for recipients ${typeName(raw)}`);
    return map;
  }
  for (const [role, value] of Object.entries(raw as Table)) {
    if (typeof value === 'string') map[role] = [value];
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) map[role] = value as string[];
    else r.error(`role_to_recipients.${JSON.stringify(role)}`, `unexpected type for recipients value ${typeName(value)}`);
  }
  return map;
}

/** Parses TOML text (already read) into a validated PluginConfig. */
export function parseConfig<Section>(channel: ChannelDefinition<Section>, file: string, text: string): PluginConfig<Section> {
  let doc: Table;
  try {
    doc = TOML.parse(text) as Table;
  } catch (err) {
    const e = err as Error & { line?: number; col?: number };
    const where = e.line !== undefined ? ` at line ${e.line + 1}, column ${(e.col ?? 0) + 1}` : '';
    throw new ConfigError(file, [`TOML syntax error${where}: ${e.message.split('\n')[0]}`]);
  }
  const r = new TomlReader(file, doc);
  const teleport = parseTeleport(r);
  const log = parseLog(r);
  const listenAddr = r.string('http.listen_addr');
  const section = channel.parseConfig(r);
  let roleToRecipients = parseRecipients(r, doc);
  const rules = channel.recipients ?? {};
  if (rules.adjust) roleToRecipients = rules.adjust(roleToRecipients, section, r);
  if (rules.requireWildcard ?? true) {
    if (!Object.keys(roleToRecipients).length) r.errors.push('role_to_recipients: missing required value role_to_recipients.');
    else if (!roleToRecipients['*']?.length) r.errors.push('role_to_recipients: missing required value role_to_recipients[*].');
  }
  for (const key of r.unknownKeys(['role_to_recipients'])) r.warn(key, 'unknown key (ignored)');
  if (r.errors.length) throw new ConfigError(file, r.errors);
  return { file, teleport, log, http: { listenAddr }, roleToRecipients, section, warnings: r.warnings };
}

/** Reads and validates `file`; throws ConfigError (naming the file) for every problem. */
export function loadConfig<Section>(channel: ChannelDefinition<Section>, file: string): PluginConfig<Section> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : (err as Error).message;
    throw new ConfigError(file, [`the config file ${why}`]);
  }
  return parseConfig(channel, file, text);
}
