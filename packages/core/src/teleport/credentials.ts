/**
 * Loads the plugin's Teleport credentials from `[teleport]`: an identity file, a tbot output
 * directory, or the `--format=tls` triple. Every problem is one IdentityError naming the file.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TeleportConfig } from '../config-types.js';
import { IdentityError } from '../errors.js';
import { parseIdentityFile } from './identity-file.js';

/** PEM material for mutual TLS with the Auth server. */
export interface TlsCredentials {
  keyPem: string;
  certPem: string;
  /** Host CA certificates the Auth server certificate must chain to. */
  caPem: string;
  /** Where they came from (for messages). */
  source: string;
  /** Cluster the certificate belongs to (issuer O, or the Teleport cluster subject attribute). */
  clusterName: string;
  /** The certificate's user (subject CN). */
  user: string;
  notAfter: Date;
  serial: string;
  /** Non-fatal findings (group/world-readable identity file). */
  warnings: string[];
}

const CLUSTER_OID = '1.3.9999.1.7';

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new IdentityError(`${what} ${path} ${why}`);
  }
}

function certInfo(certPem: string, source: string): { cert: X509Certificate; clusterName: string; user: string } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new IdentityError(`${source}: the TLS certificate cannot be parsed (truncated or corrupt file?)`);
  }
  const subject = cert.subject.split('\n');
  const user = subject.find((l) => l.startsWith('CN='))?.slice(3) ?? '';
  const clusterAttr = subject.find((l) => l.startsWith(`${CLUSTER_OID}=`))?.slice(CLUSTER_OID.length + 1);
  const issuerO = cert.issuer.split('\n').find((l) => l.startsWith('O='))?.slice(2);
  return { cert, clusterName: clusterAttr ?? issuerO ?? '', user };
}

/** Checks a key/cert/CA set and derives the user, cluster and expiry. */
export function inspectCredentials(keyPem: string, certPem: string, caPem: string, source: string, now = new Date()): TlsCredentials {
  const { cert, clusterName, user } = certInfo(certPem, source);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new IdentityError(`${source}: the private key cannot be parsed (truncated or corrupt file?)`);
  }
  if (!cert.checkPrivateKey(key)) throw new IdentityError(`${source}: the private key does not match the TLS certificate`);
  if (!/BEGIN CERTIFICATE/.test(caPem)) throw new IdentityError(`${source}: no TLS CA certificates found`);
  const notAfter = new Date(cert.validTo);
  if (notAfter <= now) {
    throw new IdentityError(
      `expired credential found: the certificate for '${user}', issued by '${clusterName}' is not valid after '${notAfter.toISOString()}'. ` +
        'No valid credentials found, this likely means credentials are expired. In this case, please sign new credentials and increase their TTL if needed.',
    );
  }
  return { keyPem, certPem, caPem, source, clusterName, user, notAfter, serial: cert.serialNumber, warnings: [] };
}

/** Reads the credentials `[teleport]` points at. */
export function loadCredentials(config: TeleportConfig, now = new Date()): TlsCredentials {
  if (config.identity) {
    let path = config.identity;
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      /* reported by read() */
    }
    if (isDir) path = join(path, 'identity');
    const text = read(path, 'identity file');
    let parsed;
    try {
      parsed = parseIdentityFile(text);
    } catch (err) {
      throw new IdentityError(`identity file ${path}: ${(err as Error).message}`);
    }
    const creds = inspectCredentials(parsed.keyPem, parsed.certPem, parsed.caPems.join(''), `identity file ${path}`, now);
    const mode = statSync(path).mode & 0o077;
    if (mode) creds.warnings.push(`identity file ${path} is readable by other users (mode ${(statSync(path).mode & 0o777).toString(8)}); run chmod 600 ${path}`);
    return creds;
  }
  if (config.clientKey && config.clientCrt && config.rootCas) {
    return inspectCredentials(
      read(config.clientKey, 'client_key'),
      read(config.clientCrt, 'client_crt'),
      read(config.rootCas, 'root_cas'),
      `client_crt ${config.clientCrt}`,
      now,
    );
  }
  throw new IdentityError('no credentials configured');
}
