import { describe, expect, it } from 'vitest';
import { evaluateCondition, ExpressionError, requestEnv, type AccessRequest } from '@tap/core';

const req: AccessRequest = {
  id: 'r1',
  user: 'alice@example.com',
  roles: ['editor', 'auditor'],
  state: 'PENDING',
  requestReason: 'deploy hotfix',
  resolveReason: '',
  systemAnnotations: { 'teleport.dev/notify': ['#ops'] },
  thresholds: [],
  reviews: [],
  suggestedReviewers: ['bob@example.com'],
  requestedResourceIds: [],
  loginHint: '',
  requestKind: 'UNDEFINED',
  created: new Date('2030-01-01T10:00:00Z'),
};
const env = requestEnv(req, { team: ['example', 'infra'] });
const ok = (c: string) => evaluateCondition(c, env);

describe('Access Monitoring Rule conditions', () => {
  it.each([
    ['!is_empty(access_request.spec.roles)', true],
    ['access_request.spec.roles.contains("editor")', true],
    ['access_request.spec.roles.contains("admin")', false],
    ['user.traits["team"].contains("example")', true],
    ['user.traits["missing"].contains("x")', false],
    ['contains_any(access_request.spec.roles, set("admin", "auditor"))', true],
    ['contains_all(access_request.spec.roles, set("editor", "auditor"))', true],
    ['contains_all(access_request.spec.roles, set())', false],
    ['access_request.spec.user == "alice@example.com" && !(access_request.spec.request_reason == "")', true],
    ['access_request.spec.user != "alice@example.com" || false', false],
    ['access_request.spec.system_annotations["teleport.dev/notify"].contains("#ops")', true],
    ['email.local(access_request.spec.user) == "alice"', true],
    ['strings.upper(access_request.spec.user) == "ALICE@EXAMPLE.COM"', true],
    ['access_request.spec.suggested_reviewers.contains("bob@example.com")', true],
    ['before(access_request.spec.creation_time, time.RFC3339("2031-01-01T00:00:00Z"))', true],
    ['access_request.spec.roles', false],
    ['true', true],
  ])('%s → %s', (condition, expected) => expect(ok(condition)).toBe(expected));

  it.each(['access_request.spec.nope == "x"', 'unknown_fn(1)', 'access_request.spec.roles.frobnicate()', '"unterminated', '(true'])(
    'rejects %s',
    (condition) => expect(() => ok(condition)).toThrow(ExpressionError),
  );

  it('a user without traits matches nothing on traits', () => {
    expect(evaluateCondition('user.traits["team"].contains("example")', requestEnv(req, {}))).toBe(false);
  });
});

