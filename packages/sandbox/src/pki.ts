/**
 * The sandbox cluster's PKI: a host CA (signs the Auth server certificate) and a user CA
 * (signs client certificates), shaped like Teleport's: Subject CN=O=<cluster>, user
 * certificates carrying the cluster name in the 1.3.9999.1.7 subject attribute.
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as any);

export type KeyType = 'rsa' | 'ec' | 'ec-sec1' | 'ed25519';

const EC_SIGN = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** Teleport's subject attribute holding the user's origin cluster. */
export const TELEPORT_CLUSTER_OID = '1.3.9999.1.7';
const DAY_MS = 24 * 3600 * 1000;

export interface KeyPair {
  /** PEM in the format the key type is written in (PKCS#1 for RSA, SEC1 or PKCS#8 for EC). */
  pem: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateKey(type: KeyType = 'ec'): KeyPair {
  if (type === 'rsa') {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { pem: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, privateKey, publicKey };
  }
  if (type === 'ed25519') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, privateKey, publicKey };
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: type === 'ec-sec1' ? 'sec1' : 'pkcs8', format: 'pem' }) as string;
  return { pem, privateKey, publicKey };
}

async function toWebKeys(pair: KeyPair): Promise<{ publicKey: any; privateKey: any; algorithm: any }> {
  const kind = pair.publicKey.asymmetricKeyType;
  const algorithm: any =
    kind === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : kind === 'ed25519' ? { name: 'Ed25519' } : EC_SIGN;
  const subtle = webcrypto.subtle;
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
  return {
    publicKey: (await subtle.importKey('spki', spki, algorithm, true, ['verify'])),
    privateKey: (await subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign'])),
    algorithm,
  };
}

const serial = () => randomBytes(8).toString('hex').replace(/^[89a-f]/, '1');

export interface CertificateAuthority {
  cert: x509.X509Certificate;
  pem: string;
  key: KeyPair;
}

export async function createCa(clusterName: string, kind: string): Promise<CertificateAuthority> {
  const key = generateKey('ec');
  const keys = await toWebKeys(key);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${clusterName}, O=${clusterName}, OU=${kind}`,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 3650 * DAY_MS),
    signingAlgorithm: EC_SIGN,
    keys: { publicKey: keys.publicKey, privateKey: keys.privateKey },
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { cert, pem: cert.toString('pem'), key };
}

export interface IssueOptions {
  subject: string;
  dns?: string[];
  ips?: string[];
  keyType?: KeyType;
  /** Lifetime from now; negative for an already expired certificate. Default 1 day. */
  ttlMs?: number;
  usage: 'server' | 'client';
}

export async function issueCert(ca: CertificateAuthority, options: IssueOptions): Promise<{ certPem: string; key: KeyPair; notAfter: Date }> {
  const key = generateKey(options.keyType ?? 'ec');
  const leaf = await toWebKeys(key);
  const caKeys = await toWebKeys(ca.key);
  const ttl = options.ttlMs ?? DAY_MS;
  const notAfter = new Date(Date.now() + ttl);
  const notBefore = new Date(Math.min(Date.now() - 60_000, notAfter.getTime() - 3600_000));
  const names = [...(options.dns ?? []).map((value) => ({ type: 'dns' as const, value })), ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value }))];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: options.subject,
    issuer: ca.cert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: EC_SIGN,
    publicKey: leaf.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([options.usage === 'server' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2']),
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { certPem: cert.toString('pem'), key, notAfter };
}

/** The Teleport user a verified client certificate belongs to (its CN). */
export function userFromCertificate(der: Buffer): string {
  const cert = new X509Certificate(der);
  return /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '';
}

export { createPrivateKey };
