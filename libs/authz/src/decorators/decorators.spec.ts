import type { ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { PERMISSIONS_KEY, POLICY_KEY, PUBLIC_KEY, SCOPES_KEY } from '../authz.constants';
import type { AuthzIdentity } from '../identity/identity';
import { CurrentIdentity } from './current-identity.decorator';
import { AuthzConfigurationError } from '../authz.exceptions';
import { Permissions } from './permissions.decorator';
import { Policy } from './policy.decorator';
import { Public } from './public.decorator';
import type { RequirementGroup } from './requirement';
import { Scopes } from './scopes.decorator';

const groupsOf = (key: string, target: object): RequirementGroup[] | undefined => Reflect.getOwnMetadata(key, target);

describe('requirement decorators', () => {
  describe.each([
    ['@Scopes', Scopes],
    ['@Scopes.anyOf', Scopes.anyOf],
    ['@Permissions', Permissions],
    ['@Permissions.anyOf', Permissions.anyOf],
  ] as const)('when %s is given bad names', (name, decorator) => {
    it('should refuse an empty list at decoration time, naming the decorator', () => {
      expect(() => decorator()).toThrow(AuthzConfigurationError);
      expect(() => decorator()).toThrow(`${name}() was given no names`);
    });

    it.each([
      ['an empty name', ''],
      ['a name with a space', 'notes read'],
      ['a name with a double quote', 'notes"read'],
      ['a name with a backslash', 'notes\\read'],
      ['a name with a newline', 'notes\nread'],
      ['a non-ASCII name', 'notés'],
      ['a non-string name', 42],
    ])('should refuse %s with a How to fix', (_case, bad) => {
      expect(() => decorator('ok', bad as string)).toThrow(AuthzConfigurationError);
      expect(() => decorator('ok', bad as string)).toThrow(/How to fix: names are non-empty printable ASCII/);
    });
  });

  describe('when names are valid', () => {
    it('should accept RFC 6749 scope characters such as colons, slashes and dots', () => {
      class Target {}
      Scopes('notes:read', 'https://api.example.com/notes.write', 'a!#$%&()*+,-./;<=>?@[]^_`{|}~')(Target);
      expect(groupsOf(SCOPES_KEY, Target)).toEqual([
        { mode: 'all', names: ['notes:read', 'https://api.example.com/notes.write', 'a!#$%&()*+,-./;<=>?@[]^_`{|}~'] },
      ]);
    });

    it('should drop duplicate names in one group', () => {
      class Target {}
      Permissions('CanRead', 'CanRead')(Target);
      expect(groupsOf(PERMISSIONS_KEY, Target)).toEqual([{ mode: 'all', names: ['CanRead'] }]);
    });

    it('should record the any-of mode', () => {
      class Target {}
      Permissions.anyOf('CanDelete', 'CanModerate')(Target);
      expect(groupsOf(PERMISSIONS_KEY, Target)).toEqual([{ mode: 'any', names: ['CanDelete', 'CanModerate'] }]);
    });

    it('should freeze the recorded groups', () => {
      class Target {}
      Scopes('a')(Target);
      const [group] = groupsOf(SCOPES_KEY, Target)!;
      expect(Object.isFrozen(group)).toBe(true);
      expect(Object.isFrozen(group.names)).toBe(true);
    });
  });

  describe('when @Scopes is stacked on one handler', () => {
    it('should add one group per decorator, each of which must hold', () => {
      class Controller {
        @Scopes('notes:read')
        @Scopes.anyOf('notes:write', 'notes:admin')
        handler() {}
      }
      // Decorators apply bottom-up.
      expect(groupsOf(SCOPES_KEY, Controller.prototype.handler)).toEqual([
        { mode: 'any', names: ['notes:write', 'notes:admin'] },
        { mode: 'all', names: ['notes:read'] },
      ]);
    });

    it('should not leak one handler\'s groups into another handler', () => {
      class Controller {
        @Scopes('a')
        first() {}
        @Scopes('b')
        second() {}
      }
      expect(groupsOf(SCOPES_KEY, Controller.prototype.first)).toEqual([{ mode: 'all', names: ['a'] }]);
      expect(groupsOf(SCOPES_KEY, Controller.prototype.second)).toEqual([{ mode: 'all', names: ['b'] }]);
    });

    it('should keep class and handler metadata apart', () => {
      @Scopes('class-scope')
      class Controller {
        @Scopes('handler-scope')
        handler() {}
      }
      expect(groupsOf(SCOPES_KEY, Controller)).toEqual([{ mode: 'all', names: ['class-scope'] }]);
      expect(groupsOf(SCOPES_KEY, Controller.prototype.handler)).toEqual([{ mode: 'all', names: ['handler-scope'] }]);
    });
  });
});

describe('@Policy', () => {
  describe('when given a name', () => {
    it('should record it on a class or a handler', () => {
      @Policy('note')
      class Controller {
        @Policy('admin')
        handler() {}
      }
      expect(Reflect.getMetadata(POLICY_KEY, Controller)).toBe('note');
      expect(Reflect.getMetadata(POLICY_KEY, Controller.prototype.handler)).toBe('admin');
    });
  });

  describe('when given an empty name', () => {
    it.each(['', '   ', undefined])('should refuse %p at decoration time', (name) => {
      expect(() => Policy(name as string)).toThrow(AuthzConfigurationError);
      expect(() => Policy(name as string)).toThrow(/@Policy\(\) was given an empty name[\s\S]*How to fix/);
    });
  });
});

describe('@Public', () => {
  describe('when applied', () => {
    it('should mark the class or handler public', () => {
      @Public()
      class Controller {
        @Public()
        handler() {}
      }
      expect(Reflect.getMetadata(PUBLIC_KEY, Controller)).toBe(true);
      expect(Reflect.getMetadata(PUBLIC_KEY, Controller.prototype.handler)).toBe(true);
    });
  });
});

describe('@CurrentIdentity', () => {
  const identity = { subject: 'susan', issuer: 'https://issuer.test/', scopes: ['notes:read'], roles: [] } as unknown as AuthzIdentity;
  const contextWith = (user: AuthzIdentity | undefined) => ({ getType: () => 'http', switchToHttp: () => ({ getRequest: () => ({ user }) }) }) as unknown as ExecutionContext;

  /** What Nest would hand the parameter: the factory stored by the decorator, called with its data. */
  function resolve(decorator: ParameterDecorator, user: AuthzIdentity | undefined): unknown {
    class Handlers {
      handler(_value: unknown) {}
    }
    decorator(Handlers.prototype, 'handler', 0);
    const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Handlers, 'handler') as Record<string, { data: unknown; factory: (data: unknown, context: ExecutionContext) => unknown }>;
    const [entry] = Object.values(args);
    return entry.factory(entry.data, contextWith(user));
  }

  describe('when called without a key', () => {
    it('should give the whole identity', () => {
      expect(resolve(CurrentIdentity(), identity)).toBe(identity);
    });

    it('should give undefined on a route without identity', () => {
      expect(resolve(CurrentIdentity(), undefined)).toBeUndefined();
    });
  });

  describe('when called with a key', () => {
    it('should give that field of the identity', () => {
      expect(resolve(CurrentIdentity('subject'), identity)).toBe('susan');
      expect(resolve(CurrentIdentity('scopes'), identity)).toEqual(['notes:read']);
    });

    it('should give undefined on a route without identity', () => {
      expect(resolve(CurrentIdentity('subject'), undefined)).toBeUndefined();
    });
  });
});
