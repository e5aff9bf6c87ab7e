/**
 * Parses a Teleport identity file (`tctl auth sign --format=file`, tbot's `identity` output)
 * the way Teleport's own decoder does: line by line; an SSH certificate line is recognised by
 * its certificate type; `@cert-authority` lines are SSH CAs; PEM blocks are placed by order —
 * the first is the private key, the second the TLS certificate, every further one a TLS CA.
 */

/** The parts of an identity file the plugins use. */
export interface IdentityFile {
  keyPem: string;
  sshCert: string;
  certPem: string;
  sshCaLines: string[];
  caPems: string[];
}

const SSH_CERT_TYPES = new Set([
  'ssh-rsa-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'ssh-ed25519-cert-v01@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
]);

/** Throws an Error with Teleport's wording when the file is not an identity file. */
export function parseIdentityFile(text: string): IdentityFile {
  const lines = text.split(/\r?\n/);
  const pems: string[] = [];
  const sshCaLines: string[] = [];
  let sshCert = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    if (line.startsWith('-----BEGIN')) {
      const block = [line];
      for (;;) {
        i++;
        if (i >= lines.length) throw new Error('invalid PEM block (fragment)');
        const next = lines[i]!.trim();
        block.push(next);
        if (next.startsWith('-----END')) break;
      }
      pems.push(`${block.join('\n')}\n`);
    } else if (line.startsWith('@cert-authority')) {
      sshCaLines.push(line);
    } else if (SSH_CERT_TYPES.has(line.split(' ')[0]!)) {
      sshCert = line;
    }
  }
  if (!sshCert) throw new Error('could not find SSH cert in the identity file');
  if (pems.length < 2) throw new Error('identity file holds no TLS certificate (truncated?)');
  if (!/PRIVATE KEY/.test(pems[0]!.split('\n')[0]!)) throw new Error('identity file does not start with a private key');
  if (pems.length < 3) throw new Error('identity file holds no TLS CA certificates (truncated?)');
  return { keyPem: pems[0]!, sshCert, certPem: pems[1]!, sshCaLines, caPems: pems.slice(2) };
}
