import { describe, expect, it } from 'vitest';
import { applyTraitsToLogins, buildRequestView, buildStoredView, resourceIdToString, webRequestLink, type AccessRequest } from '@tap/core';

const req: AccessRequest = {
  id: 'abc-123',
  user: 'alice',
  roles: ['editor'],
  state: 'APPROVED',
  requestReason: 'why',
  resolveReason: 'ok',
  systemAnnotations: {},
  thresholds: [],
  reviews: [{ author: 'bob', roles: [], proposedState: 'APPROVED', reason: 'fine', created: new Date(0) }],
  suggestedReviewers: [],
  requestedResourceIds: [{ clusterName: 'c1', kind: 'node', name: 'uuid-1', subResourceName: '' }],
  loginHint: '',
  requestKind: 'UNDEFINED',
};
const ping = { clusterName: 'c1', serverVersion: '18.0.0', proxyPublicAddr: 'teleport.example.com:443', advancedAccessWorkflows: true };

describe('request view', () => {
  it('links to the web UI only with AdvancedAccessWorkflows, dropping :443', () => {
    expect(buildRequestView({ ping }, req, { resources: [] }).link).toBe('https://teleport.example.com/web/requests/abc-123');
    expect(buildRequestView({ ping: { ...ping, advancedAccessWorkflows: false } }, req, { resources: [] }).link).toBeUndefined();
    expect(webRequestLink('proxy.example.com:3080', 'x y')).toBe('https://proxy.example.com:3080/web/requests/x%20y');
    expect(webRequestLink('', 'x')).toBeUndefined();
  });

  it('uses stored friendly names, else /cluster/kind/name', () => {
    expect(buildRequestView({ ping }, req, { resources: ['node/web-1'] }).resources).toStrictEqual(['node/web-1']);
    expect(buildRequestView({ ping }, req, { resources: [] }).resources).toStrictEqual(['/c1/node/uuid-1']);
    expect(resourceIdToString({ clusterName: 'c', kind: 'db', name: 'pg', subResourceName: 'main' })).toBe('/c/db/pg/main');
  });

  it('carries kind, status, resolve reason and reviews', () => {
    const v = buildRequestView({ ping }, req, { resources: [] });
    expect([v.kind, v.status, v.resolveReason, v.reviews[0]?.author]).toStrictEqual(['resource', 'APPROVED', 'ok', 'bob']);
    expect(buildRequestView({ ping }, { ...req, requestKind: 'LONG_TERM' }, { resources: [] }).kind).toBe('long-term');
    expect(buildRequestView({ ping }, { ...req, requestedResourceIds: [], state: 'PENDING' }, { resources: [] })).toMatchObject({ kind: 'role', status: 'PENDING', resolveReason: '' });
  });

  it('renders a deleted request from plugin data', () => {
    const v = buildStoredView({ ping }, 'gone', { user: 'u', roles: ['r'], resources: [], requestReason: 'x', reviewsCount: 1, resolution: 'EXPIRED', resolveReason: '' }, 'EXPIRED');
    expect(v).toMatchObject({ id: 'gone', user: 'u', roles: ['r'], status: 'EXPIRED', reviews: [] });
  });
});

describe('applyTraitsToLogins', () => {
  const traits = { logins: ['root', 'ubuntu'], email: ['alice@example.com'], 'unix-name': ['al'] };
  it('expands internal/external templates and keeps plain logins', () => {
    expect(applyTraitsToLogins(['{{internal.logins}}', 'admin', 'x-{{external["unix-name"]}}', '{{email.local(external.email)}}'], traits)).toStrictEqual([
      'root', 'ubuntu', 'admin', 'x-al', 'alice',
    ]);
  });
  it('drops templates with a missing trait or an unknown function', () => {
    expect(applyTraitsToLogins(['{{internal.nope}}', '{{regexp.replace(internal.logins, "a", "b")}}', 'ok'], traits)).toStrictEqual(['ok']);
  });
});
