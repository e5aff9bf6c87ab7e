/**
 * A throwaway CA and a server certificate it signs, for HTTPS fakes on loopback: clients trust
 * the CA (`[msapi] ca_file`, or NODE_EXTRA_CA_CERTS in a child process), never an option that
 * switches verification off.
 */
import { generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
type WebKey = webcrypto.CryptoKey;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

async function keyPair(): Promise<{ pem: string; publicKey: WebKey; privateKey: WebKey }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, ALG, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, ALG, true, ['verify']),
  };
}

const serial = () => `01${randomBytes(8).toString('hex')}`;

export interface TestTls {
  /** The CA certificate clients must trust (PEM). */
  caPem: string;
  /** The server's certificate (PEM) for `names` (DNS names and IP addresses). */
  certPem: string;
  keyPem: string;
}

/** A new CA (`CN=<label> test CA`) and a server certificate for `names`, valid for a day. */
export async function makeTestTls(label: string, names: string[] = ['127.0.0.1', 'localhost']): Promise<TestTls> {
  const caKeys = await keyPair();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${label} test CA`,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + DAY_MS),
    signingAlgorithm: ALG,
    keys: { publicKey: caKeys.publicKey, privateKey: caKeys.privateKey },
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leafKeys = await keyPair();
  const isIp = (n: string) => /^[\d.]+$/.test(n) || n.includes(':');
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${names[0]}`,
    issuer: ca.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + DAY_MS),
    signingAlgorithm: ALG,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1']),
      new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: isIp(value) ? ('ip' as const) : ('dns' as const), value }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  return { caPem: ca.toString('pem'), certPem: leaf.toString('pem'), keyPem: leafKeys.pem };
}
