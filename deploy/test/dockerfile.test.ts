import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const PLUGINS = ['slack', 'mattermost', 'discord', 'email', 'msteams'];

export interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Parses a Dockerfile into instructions (continuations joined, comments dropped), tagged by stage. */
export function parseDockerfile(text: string): Instruction[] {
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  let stage = -1;
  return logical.map((line) => {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`cannot parse Dockerfile line: ${line}`);
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage++;
    return { op, args: m[2]!, stage };
  });
}

const KNOWN = new Set(['FROM', 'RUN', 'COPY', 'ADD', 'WORKDIR', 'ENV', 'ARG', 'USER', 'ENTRYPOINT', 'CMD', 'HEALTHCHECK', 'LABEL', 'EXPOSE', 'VOLUME', 'SHELL', 'STOPSIGNAL', 'ONBUILD']);
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);

for (const plugin of PLUGINS) {
  describe(`deploy/docker/Dockerfile.${plugin}`, () => {
    const instructions = parseDockerfile(readFileSync(join(ROOT, 'deploy/docker', `Dockerfile.${plugin}`), 'utf8'));
    const last = Math.max(...instructions.map((i) => i.stage));
    const final = instructions.filter((i) => i.stage === last);
    const one = (op: string) => final.filter((i) => i.op === op).at(-1);

    it('uses only known instructions and pinned base images', () => {
      for (const i of instructions) expect(KNOWN.has(i.op), i.op).toBe(true);
      for (const from of instructions.filter((i) => i.op === 'FROM')) expect(from.args).toMatch(/^[^\s]+:[^\s]+/); // has a tag
      expect(last).toBeGreaterThanOrEqual(1); // multi-stage: no toolchain in the final image
    });

    it('runs the plugin binary as a non-root user with start as the default command', () => {
      expect(one('USER')?.args).toMatch(/^(nonroot|\d{3,})/);
      expect(JSON.parse(one('ENTRYPOINT')!.args)).toEqual(['/usr/local/bin/teleport-plugin']);
      expect(JSON.parse(one('CMD')!.args)).toEqual(['start', '--config', `/etc/teleport-${plugin}.toml`]);
    });

    it('has a HEALTHCHECK that uses the readiness endpoint through the binary', () => {
      const hc = one('HEALTHCHECK')!.args;
      const cmd = JSON.parse(hc.slice(hc.indexOf('CMD') + 3).trim());
      expect(cmd).toEqual(['/usr/local/bin/teleport-plugin', 'healthcheck', '--config', `/etc/teleport-${plugin}.toml`]);
    });

    it('COPYs only files that exist in the build context and are not ignored', () => {
      for (const copy of instructions.filter((i) => i.op === 'COPY' && !i.args.includes('--from'))) {
        const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const src of parts.slice(0, -1)) {
          expect(existsSync(join(ROOT, src)), `${src} exists`).toBe(true);
          expect(dockerignore.some((pattern) => pattern === src || pattern === `${src}/`), `${src} not in .dockerignore`).toBe(false);
        }
      }
    });

    it('copies the single executable that `pnpm build:sea` writes', () => {
      const copy = final.find((i) => i.op === 'COPY' && i.args.includes('--from=build'))!;
      const [src, dest] = copy.args.replace('--from=build', '').trim().split(/\s+/);
      expect(src).toBe(`/src/dist/bin/teleport-${plugin}`);
      expect(dest).toBe('/usr/local/bin/teleport-plugin');
      const build = instructions.filter((i) => i.stage === 0 && i.op === 'RUN').map((i) => i.args).join(' ');
      expect(build).toContain(`build:sea ${plugin}`);
    });
  });
}
