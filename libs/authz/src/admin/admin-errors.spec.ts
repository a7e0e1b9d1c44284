import { HttpException } from '@nestjs/common';
import { InsufficientScopeException } from '../authz.exceptions';
import { InvalidPolicyError } from '../policy/policy-document';
import { PolicyNotFoundError, RevisionConflictError, RoleInUseError, RoleNotFoundError } from '../store/store-errors';
import { adminErrorAnswer } from './admin-errors';

describe('adminErrorAnswer', () => {
  describe('when given a refusal of the store', () => {
    it.each([
      [new InvalidPolicyError('roles.reader[0]', 'must not be empty'), 400, { field: 'roles.reader[0]', message: 'roles.reader[0] must not be empty' }],
      [new PolicyNotFoundError('note'), 404, { policy: 'note' }],
      [new RoleNotFoundError('note', 'ghost'), 404, { policy: 'note', role: 'ghost' }],
      [new RevisionConflictError('note', 3, 5), 409, { policy: 'note', expectedRevision: 3, revision: 5 }],
      [new RoleInUseError('note', 'reader'), 409, { policy: 'note', role: 'reader' }],
    ])('should answer %s with %p', (error, status, extra) => {
      const answer = adminErrorAnswer(error);
      expect(answer).toMatchObject({ status, fault: false, headers: {} });
      expect(answer.body).toMatchObject({ statusCode: status, message: error.message, ...extra });
    });
  });

  describe('when given an HttpException', () => {
    it('should pass its status and body on unchanged', () => {
      const refusal = new InsufficientScopeException(['authz:admin'], 'The token lacks the scope(s): authz:admin');
      expect(adminErrorAnswer(refusal)).toEqual({ status: 403, body: refusal.getResponse(), headers: {}, fault: false });
    });

    it('should wrap a string body as Nest does', () => {
      expect(adminErrorAnswer(new HttpException('I am a teapot', 418)).body).toEqual({ statusCode: 418, message: 'I am a teapot' });
    });
  });

  describe('when given anything else', () => {
    it.each([new Error('connect ECONNREFUSED'), new TypeError('x is undefined'), 'a string', undefined])('should answer %p with 503, Retry-After and a fault to log', (thrown) => {
      expect(adminErrorAnswer(thrown)).toEqual({
        status: 503,
        body: { statusCode: 503, error: 'Service Unavailable', message: 'The policy store is unavailable; try again later' },
        headers: { 'Retry-After': '5' },
        fault: true,
      });
    });
  });
});
