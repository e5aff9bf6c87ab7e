/**
 * Writes client credentials in Teleport's real formats: the identity file of
 * `tctl auth sign --format=file` (key, SSH certificate, TLS certificate, @cert-authority lines,
 * TLS CA certificates, in that order, mode 0600), the `--format=tls` triple, and a tbot
 * output directory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CertificateAuthority, type KeyType, TELEPORT_CLUSTER_OID, createCa, issueCert } from './pki.js';
import { type SshCa, certAuthorityLine, signUserCertificate } from './ssh-cert.js';

export interface CredentialOptions {
  /** Teleport user (certificate CN). */
  user: string;
  /** Roles (written as the certificate's O attributes, like Teleport). Informational here. */
  roles?: string[];
  keyType?: KeyType;
  /** Certificate lifetime; default 1 day. */
  ttlMs?: number;
  /** An already expired certificate. */
  expired?: boolean;
  /** Signed by another cluster's CA (and trusting that cluster): the server must refuse it. */
  foreignCa?: boolean;
}

export interface ClusterPki {
  clusterName: string;
  hostCa: CertificateAuthority;
  userCa: CertificateAuthority;
  sshUserCa: SshCa;
  sshHostCa: SshCa;
}

export interface IssuedCredentials {
  keyPem: string;
  certPem: string;
  casPem: string;
  sshCertLine: string;
  knownHostsLine: string;
  notAfter: Date;
}

export async function issueCredentials(pki: ClusterPki, o: CredentialOptions): Promise<IssuedCredentials> {
  const userCa = o.foreignCa ? await createCa('foreign.example.com', 'user') : pki.userCa;
  const ttlMs = o.expired ? -3600_000 : (o.ttlMs ?? 24 * 3600_000);
  const roles = (o.roles ?? ['access-plugin']).map((r) => `O=${r}`).join(', ');
  const issued = await issueCert(userCa, {
    subject: `CN=${o.user}, ${roles}, ${TELEPORT_CLUSTER_OID}=${o.foreignCa ? 'foreign.example.com' : pki.clusterName}`,
    keyType: o.keyType,
    ttlMs,
    usage: 'client',
  });
  return {
    keyPem: issued.key.pem,
    certPem: issued.certPem,
    casPem: pki.hostCa.pem,
    sshCertLine: signUserCertificate(pki.sshUserCa, o.user, issued.notAfter),
    knownHostsLine: certAuthorityLine(pki.sshHostCa, pki.clusterName),
    notAfter: issued.notAfter,
  };
}

const nl = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);

export function identityFileText(c: IssuedCredentials): string {
  return [c.keyPem, c.sshCertLine, c.certPem, c.knownHostsLine, c.casPem].map(nl).join('');
}

export async function writeIdentityFile(path: string, c: IssuedCredentials): Promise<void> {
  await writeFile(path, identityFileText(c), { mode: 0o600 });
}

/** `tctl auth sign --format=tls --out=<prefix>`: `<prefix>.key`, `<prefix>.crt`, `<prefix>.cas`. */
export async function writeTlsFiles(prefix: string, c: IssuedCredentials): Promise<{ key: string; crt: string; cas: string }> {
  const files = { key: `${prefix}.key`, crt: `${prefix}.crt`, cas: `${prefix}.cas` };
  await writeFile(files.key, nl(c.keyPem), { mode: 0o600 });
  await writeFile(files.crt, nl(c.certPem), { mode: 0o600 });
  await writeFile(files.cas, nl(c.casPem), { mode: 0o600 });
  return files;
}

/** A tbot output directory (identity output plus the separate files tbot writes). */
export async function writeTbotDir(dir: string, c: IssuedCredentials, userCaPem: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files: Record<string, string> = {
    identity: identityFileText(c),
    tlscert: nl(c.certPem),
    key: nl(c.keyPem),
    'key-cert.pub': nl(c.sshCertLine),
    'teleport-host-ca.crt': nl(c.casPem),
    'teleport-user-ca.crt': nl(userCaPem),
    known_hosts: nl(c.knownHostsLine),
  };
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content, { mode: 0o600 });
}
