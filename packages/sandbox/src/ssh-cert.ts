/**
 * Real OpenSSH user certificates (ssh-ed25519-cert-v01@openssh.com), signed by an SSH user CA,
 * so identity files written by the sandbox look exactly like `tctl auth sign --format=file`.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
const str = (s: string | Buffer) => {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([u32(b.length), b]);
};
const rawEd25519 = (key: KeyObject) => Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url');

export interface SshCa {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function createSshCa(): SshCa {
  return generateKeyPairSync('ed25519');
}

/** `ssh-ed25519 <base64>` wire blob of a public key. */
export function sshPublicKeyBlob(key: KeyObject): Buffer {
  return Buffer.concat([str('ssh-ed25519'), str(rawEd25519(key))]);
}

/** An `authorized_keys`-style certificate line for `principal`. */
export function signUserCertificate(ca: SshCa, principal: string, validBefore: Date): string {
  const subject = generateKeyPairSync('ed25519').publicKey;
  const type = 'ssh-ed25519-cert-v01@openssh.com';
  const body = Buffer.concat([
    str(type),
    str(randomBytes(32)),
    str(rawEd25519(subject)),
    u64(BigInt(Date.now())),
    u32(1), // SSH_CERT_TYPE_USER
    str(principal),
    str(str(principal)),
    u64(BigInt(Math.floor(Date.now() / 1000) - 60)),
    u64(BigInt(Math.floor(validBefore.getTime() / 1000))),
    str(''),
    str(Buffer.concat([str('permit-pty'), str('')])),
    str(''),
    str(sshPublicKeyBlob(ca.publicKey)),
  ]);
  const signature = Buffer.concat([str('ssh-ed25519'), str(sign(null, body, ca.privateKey))]);
  return `${type} ${Buffer.concat([body, str(signature)]).toString('base64')}`;
}

/** A known_hosts line trusting the SSH host CA for the cluster. */
export function certAuthorityLine(ca: SshCa, clusterName: string): string {
  return `@cert-authority ${clusterName},*.${clusterName} ssh-ed25519 ${sshPublicKeyBlob(ca.publicKey).toString('base64')} type=host`;
}
