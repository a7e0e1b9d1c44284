import { Reflector } from '@nestjs/core';
import { AuthzConfigurationError } from '../authz.exceptions';
import { Permissions } from '../decorators/permissions.decorator';
import { Policy } from '../decorators/policy.decorator';
import { Public } from '../decorators/public.decorator';
import { Resource } from '../decorators/resource.decorator';
import { Scopes } from '../decorators/scopes.decorator';
import { readRouteRequirements } from './route-requirements';

const reflector = new Reflector();
const read = (controller: Function, method: string, defaultPolicy?: string) =>
  readRouteRequirements(reflector, controller.prototype[method], controller, defaultPolicy);

describe('readRouteRequirements', () => {
  describe('when a route declares nothing', () => {
    it('should be protected with no scope or permission groups', () => {
      class Controller {
        handler() {}
      }
      expect(read(Controller, 'handler')).toEqual({ isPublic: false, scopes: [], permissions: [], policy: undefined, resource: undefined });
    });
  });

  describe('when a controller extends another', () => {
    @Scopes('notes:read')
    @Permissions('CanRead')
    @Policy('note')
    class BaseController {
      list() {}
    }

    @Scopes('notes:admin')
    class AdminController extends BaseController {
      @Permissions('CanModerate')
      purge() {}
    }

    class PlainController extends BaseController {}

    @Public()
    class OpenBase {
      health() {}
    }
    class OpenChild extends OpenBase {}

    it("should keep the base class's groups and add the subclass's own, never fewer", () => {
      const route = read(AdminController, 'purge');
      expect(route.scopes).toEqual([
        { mode: 'all', names: ['notes:admin'] },
        { mode: 'all', names: ['notes:read'] },
      ]);
      expect(route.permissions).toEqual([
        { mode: 'all', names: ['CanModerate'] },
        { mode: 'all', names: ['CanRead'] },
      ]);
      expect(read(AdminController, 'list').scopes).toHaveLength(2);
    });

    it("should apply the base class's requirements and policy to a subclass that declares nothing", () => {
      expect(read(PlainController, 'list')).toEqual({
        isPublic: false,
        scopes: [{ mode: 'all', names: ['notes:read'] }],
        permissions: [{ mode: 'all', names: ['CanRead'] }],
        policy: 'note',
      });
    });

    it('should inherit @Public() from the nearest class that has it', () => {
      expect(read(OpenChild, 'health').isPublic).toBe(true);
    });
  });

  describe('when class and handler both declare scopes and permissions', () => {
    @Scopes('notes:read')
    @Permissions('CanRead')
    @Policy('note')
    class Controller {
      @Scopes.anyOf('notes:write', 'notes:admin')
      @Permissions.anyOf('CanWrite', 'CanModerate')
      handler() {}
    }

    it('should add the handler groups to the class groups, handler first', () => {
      const route = read(Controller, 'handler');
      expect(route.scopes).toEqual([
        { mode: 'any', names: ['notes:write', 'notes:admin'] },
        { mode: 'all', names: ['notes:read'] },
      ]);
      expect(route.permissions).toEqual([
        { mode: 'any', names: ['CanWrite', 'CanModerate'] },
        { mode: 'all', names: ['CanRead'] },
      ]);
    });

    it('should return a frozen result', () => {
      expect(Object.isFrozen(read(Controller, 'handler'))).toBe(true);
    });
  });

  describe('when choosing the policy', () => {
    @Policy('admin')
    class Controller {
      @Policy('note')
      @Permissions('CanRead')
      handlerPolicy() {}

      @Permissions('ViewReports')
      classPolicy() {}
    }

    class Plain {
      @Permissions('CanRead')
      handler() {}
    }

    it('should let the handler @Policy win over the class @Policy', () => {
      expect(read(Controller, 'handlerPolicy', 'fallback').policy).toBe('note');
    });

    it('should use the class @Policy when the handler names none', () => {
      expect(read(Controller, 'classPolicy', 'fallback').policy).toBe('admin');
    });

    it('should fall back to defaultPolicy without any @Policy', () => {
      expect(read(Plain, 'handler', 'fallback').policy).toBe('fallback');
    });

    it('should refuse @Permissions with neither @Policy nor defaultPolicy', () => {
      expect(() => read(Plain, 'handler')).toThrow(AuthzConfigurationError);
      expect(() => read(Plain, 'handler')).toThrow(/Plain\.handler has @Permissions\(\) but no policy[\s\S]*How to fix: add @Policy/);
    });
  });

  describe('when @Public is involved', () => {
    it('should make a route public from the handler', () => {
      class Controller {
        @Public()
        handler() {}
      }
      expect(read(Controller, 'handler').isPublic).toBe(true);
    });

    it('should make every route of a public class public', () => {
      @Public()
      class Controller {
        handler() {}
      }
      expect(read(Controller, 'handler').isPublic).toBe(true);
    });

    it('should refuse @Public with @Scopes on the same route', () => {
      class Controller {
        @Public()
        @Scopes('notes:read')
        handler() {}
      }
      expect(() => read(Controller, 'handler')).toThrow(/Controller\.handler is @Public\(\) and also has @Scopes\(\) or @Permissions\(\)[\s\S]*How to fix/);
    });

    it('should refuse a @Public class whose handler has @Permissions', () => {
      @Public()
      class Controller {
        @Permissions('CanRead')
        handler() {}
      }
      expect(() => read(Controller, 'handler', 'note')).toThrow(AuthzConfigurationError);
    });

    it('should refuse a @Public handler in a class that requires scopes', () => {
      @Scopes('admin')
      class Controller {
        @Public()
        handler() {}
      }
      expect(() => read(Controller, 'handler')).toThrow(AuthzConfigurationError);
    });
  });

  describe('when a route names a resource', () => {
    it("should take the handler's @Resource over the class's, and read the route parameter", () => {
      @Resource('noteId')
      @Policy('note')
      class Controller {
        @Permissions('CanRead')
        byClass() {}
        @Permissions('CanEdit')
        @Resource('id')
        byHandler() {}
      }
      expect(read(Controller, 'byClass').resource?.({ params: { noteId: 'n1', id: 'n2' } }, undefined as never)).toBe('n1');
      expect(read(Controller, 'byHandler').resource?.({ params: { noteId: 'n1', id: 'n2' } }, undefined as never)).toBe('n2');
    });

    it('should keep a class @Resource off routes that check no permission', () => {
      @Resource('id')
      class Controller {
        handler() {}
      }
      expect(read(Controller, 'handler').resource).toBeUndefined();
    });

    it('should refuse @Resource on a handler without @Permissions, saying how to fix it', () => {
      class Controller {
        @Resource('id')
        handler() {}
      }
      expect(() => read(Controller, 'handler')).toThrow(/Controller\.handler has @Resource\(\) but no @Permissions\(\)[\s\S]*How to fix/);
    });

    it.each([[''], ['  '], [42]])('should refuse %p at decoration time', (bad) => {
      expect(() => Resource(bad as string)).toThrow(AuthzConfigurationError);
    });
  });
});
