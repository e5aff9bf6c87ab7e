// Every error code the plugins can raise is explained in docs/errors.md, and every guide the
// README links to exists.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@tap/core';

const ROOT = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('docs', () => {
  it('explains every error code', () => {
    const doc = read('docs/errors.md');
    for (const code of Object.keys(ERROR_CODES)) expect(doc, code).toContain(`## ${code}`);
  });

  it('has every document the README links to', () => {
    const links = [...read('README.md').matchAll(/\]\(((?:docs|proto)\/[^)#]+)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) expect(existsSync(join(ROOT, link)), link).toBe(true);
  });
});
