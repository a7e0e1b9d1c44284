'use strict';

require('reflect-metadata');
const { createPublicKey, verify } = require('node:crypto');
const { Controller, Get, Inject, Injectable, Module, UnauthorizedException, UseGuards } = require('@nestjs/common');
const { APP_GUARD } = require('@nestjs/core');
const { AuthGuard, PassportModule, PassportStrategy } = require('@nestjs/passport');
const { ExtractJwt, Strategy } = require('passport-jwt');
const { passportJwtSecret } = require('jwks-rsa');
const { AUTHZ_CONFIG, AuthzGuard, AuthzModule, Permissions, Resource, Scopes } = require('nestjs-authz');
const { AUDIENCE } = require('./config');

/**
 * The apps the scenarios call, written as a Nest user would (plain JS: decorators are applied by hand).
 * Every app serves GET /notes with the same handler body; only what guards it differs.
 */

/** Applies method decorators the way TypeScript's `@Decorator()` would. */
function decorateMethod(target, method, decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method);
  Object.defineProperty(target.prototype, method, Reflect.decorate(decorators, target.prototype, method, descriptor));
}

function notesController(classDecorators, methodDecorators, resourceDecorators) {
  class NotesController {
    read() {
      return { notes: [] };
    }
  }
  decorateMethod(NotesController, 'read', [Get('notes'), ...methodDecorators]);
  // Only the store hot path's apps have the @Resource route (GET /notes/:id); the others are as before.
  if (resourceDecorators) {
    NotesController.prototype.readOne = function readOne() {
      return { notes: [] };
    };
    decorateMethod(NotesController, 'readOne', [Get('notes/:id'), ...resourceDecorators]);
  }
  Reflect.decorate([Controller(), ...classDecorators], NotesController);
  return NotesController;
}

/** Scenario 1: no guard at all (the ceiling). */
function unguardedModule() {
  class UnguardedModule {}
  Reflect.decorate([Module({ controllers: [notesController([], [])] })], UnguardedModule);
  return UnguardedModule;
}

/**
 * Scenario 2: the usual recipe from the Nest docs and blog posts: passport-jwt with jwks-rsa's
 * `passportJwtSecret`, `algorithms`/`issuer`/`audience` at the top level (where passport-jwt honours them).
 */
function stockModule({ issuer, jwksUri }) {
  const JwtStrategy = passportJwtStrategy({ issuer, jwksUri });
  class StockModule {}
  Reflect.decorate([Module({ imports: [PassportModule], controllers: [notesController([UseGuards(AuthGuard('jwt'))], [])], providers: [JwtStrategy] })], StockModule);
  return StockModule;
}

/** The stock recipe's passport-jwt strategy ('jwt'), shared by scenario 2 and the passport mode of scenarios 7-8. */
function passportJwtStrategy({ issuer, jwksUri }) {
  class JwtStrategy extends PassportStrategy(Strategy) {
    constructor() {
      super({
        secretOrKeyProvider: passportJwtSecret({ cache: true, rateLimit: true, jwksRequestsPerMinute: 5, jwksUri }),
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        algorithms: ['RS256'],
        issuer,
        audience: AUDIENCE,
      });
    }

    validate(payload) {
      return payload;
    }
  }
  Reflect.decorate([Injectable()], JwtStrategy);
  return JwtStrategy;
}

/**
 * Scenario 6, a reference rather than a contender: the cheapest guard that still checks an RS256 signature on every
 * request (the "guard that verified RS256 itself with a cached KeyObject"). It fetches the JWKS once at
 * start and checks the signature with that key, and nothing else: no header or claims checks, no scopes, no policy,
 * no cache. Scenario 4 cannot beat it, so its ratio is the ceiling of scenario 4 on this machine.
 */
function bareVerifyModule({ jwksUri }) {
  const KEY = 'BENCH_RS256_KEY';
  class BareVerifyGuard {
    constructor(key) {
      this.key = key;
    }

    canActivate(context) {
      const header = context.switchToHttp().getRequest().headers.authorization ?? '';
      const token = header.slice('Bearer '.length);
      const dot = token.lastIndexOf('.');
      if (!header.startsWith('Bearer ') || dot < 0) throw new UnauthorizedException();
      const valid = verify('sha256', Buffer.from(token.slice(0, dot)), this.key, Buffer.from(token.slice(dot + 1), 'base64url'));
      if (!valid) throw new UnauthorizedException();
      return true;
    }
  }
  Inject(KEY)(BareVerifyGuard, undefined, 0);
  Reflect.decorate([Injectable()], BareVerifyGuard);

  const keyProvider = {
    provide: KEY,
    useFactory: async () => {
      const { keys } = await (await fetch(jwksUri)).json();
      return createPublicKey({ key: keys[0], format: 'jwk' });
    },
  };
  class BareVerifyModule {}
  Reflect.decorate([Module({ controllers: [notesController([UseGuards(BareVerifyGuard)], [])], providers: [keyProvider, BareVerifyGuard] })], BareVerifyModule);
  return BareVerifyModule;
}

/** The policy the nestjs-authz app decides with: `notes-reader` identity role → `reader` → CanRead. */
const NOTE_POLICY = {
  note: {
    roles: { reader: ['CanRead'], editor: ['CanRead', 'CanWrite'] },
    identityRoles: { 'notes-reader': ['reader'] },
    subjects: { susan: { roles: ['editor'] } },
  },
};

/**
 * Resource grants (bench/store.js): role `owner`, held on single notes only, gives CanShare, which no type-wide grant
 * of the bench's policies gives. The store hot path's apps also serve GET /notes/:id with `@Resource('id')` and
 * `@Permissions('CanShare')`, and susan owns note RESOURCE_ID.
 */
const RESOURCE_ROLE = 'owner';
const RESOURCE_PERMISSION = 'CanShare';
const OWNER_ROLE_PERMISSIONS = ['CanRead', 'CanWrite', RESOURCE_PERMISSION];
const RESOURCE_ID = 'note-hot-1';

/** A copy of a policy document with role `owner`, so that resource grants of it can be written. */
function withOwnerRole(document) {
  return { ...document, roles: { ...document.roles, [RESOURCE_ROLE]: OWNER_ROLE_PERMISSIONS } };
}

/**
 * Scenarios 3-5: nestjs-authz as its README sets it up (APP_GUARD), defaults for every cache. The grants are
 * NOTE_POLICY in memory, unless `authzOptions.policyStore` gives a store (bench/store.js: PostgresPolicyStore).
 * `resourceRoute`: also GET /notes/:id, a question about note `:id` (the store hot path).
 */
function authzModule({ issuer, jwksUri, authzOptions = {}, resourceRoute = false }) {
  const resourceDecorators = resourceRoute ? [Scopes('notes:read'), Permissions(RESOURCE_PERMISSION), Resource('id')] : undefined;
  const controller = notesController([], [Scopes('notes:read'), Permissions('CanRead')], resourceDecorators);
  const grants = authzOptions.policyStore === undefined ? { policies: NOTE_POLICY } : {};
  class AuthzBenchModule {}
  Reflect.decorate(
    [
      Module({
        imports: [AuthzModule.forRoot({ issuer, audience: AUDIENCE, jwksUri, defaultPolicy: 'note', ...grants, ...authzOptions })],
        controllers: [controller],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
      }),
    ],
    AuthzBenchModule,
  );
  return { module: AuthzBenchModule, controller };
}

/**
 * Scenarios 7-12: the nestjs-authz/passport entry point (docs/passport.md), with scenario 3's AuthzModule options
 * (same issuer, audience, JWKS, policy; defaults for every cache).
 * - 'passport' (7, 8): mode (a), `PassportAuthzGuard.using({ strategy: 'jwt', toIdentity })` as APP_GUARD over the
 *   stock recipe's passport-jwt strategy, `toIdentity` as in docs/passport.md; the route has scenario 3's
 *   `@Scopes('notes:read')` and `@Permissions('CanRead')`.
 * - 'authzjwt' (9, 10): mode (b), `@UseGuards(AuthzJwtGuard)` with `AuthzJwtStrategy` ('authz-jwt'): the library's
 *   TokenVerifier behind passport. Authentication only (like scenario 2): the guard checks no scopes or permissions.
 * - 'authzjwt-policy' (11, 12): both, as docs/passport.md suggests for scopes and permissions on top of 'authz-jwt':
 *   `PassportAuthzGuard.using({ strategy: 'authz-jwt', toIdentity: (identity) => identity })` as APP_GUARD, with
 *   `AuthzJwtStrategy`, and scenario 3's route decorators.
 */
function passportModule(kind, { issuer, jwksUri }) {
  const { AuthzJwtGuard, AuthzJwtStrategy, PassportAuthzGuard } = require('nestjs-authz/passport');
  const authz = AuthzModule.forRoot({ issuer, audience: AUDIENCE, jwksUri, defaultPolicy: 'note', policies: NOTE_POLICY });
  const policyRoute = [Scopes('notes:read'), Permissions('CanRead')];
  let controller;
  let providers;
  if (kind === 'passport') {
    const toIdentity = (user) => ({ subject: user.sub, issuer: user.iss, scopes: user.scope, roles: user.roles ?? [], claims: user });
    controller = notesController([], policyRoute);
    providers = [passportJwtStrategy({ issuer, jwksUri }), { provide: APP_GUARD, useClass: PassportAuthzGuard.using({ strategy: 'jwt', toIdentity }) }];
  } else if (kind === 'authzjwt') {
    controller = notesController([UseGuards(AuthzJwtGuard)], []);
    providers = [AuthzJwtStrategy];
  } else {
    controller = notesController([], policyRoute);
    providers = [AuthzJwtStrategy, { provide: APP_GUARD, useClass: PassportAuthzGuard.using({ strategy: 'authz-jwt', toIdentity: (identity) => identity }) }];
  }
  class PassportBenchModule {}
  Reflect.decorate([Module({ imports: [authz, PassportModule], controllers: [controller], providers })], PassportBenchModule);
  return PassportBenchModule;
}

function appModule(kind, options) {
  if (kind === 'passport' || kind === 'authzjwt' || kind === 'authzjwt-policy') return passportModule(kind, options);
  if (kind === 'unguarded') return unguardedModule();
  if (kind === 'stock') return stockModule(options);
  if (kind === 'authz') return authzModule(options).module;
  if (kind === 'bare') return bareVerifyModule(options);
  throw new Error(`unknown app kind '${kind}'`);
}

module.exports = { appModule, authzModule, NOTE_POLICY, AUTHZ_CONFIG, RESOURCE_ROLE, RESOURCE_PERMISSION, OWNER_ROLE_PERMISSIONS, RESOURCE_ID, withOwnerRole };
