'use strict';

require('reflect-metadata');
const { Controller, Get, Injectable, Module, UseGuards } = require('@nestjs/common');
const { APP_GUARD } = require('@nestjs/core');
const { AuthGuard, PassportModule, PassportStrategy } = require('@nestjs/passport');
const { ExtractJwt, Strategy } = require('passport-jwt');
const { passportJwtSecret } = require('jwks-rsa');
const { AUTHZ_CONFIG, AuthzGuard, AuthzModule, Permissions, Scopes } = require('nestjs-authz');
const { AUDIENCE } = require('./config');

/**
 * The three apps the scenarios call, written as a Nest user would (plain JS: decorators are applied by hand).
 * Every app serves GET /notes with the same handler body; only what guards it differs.
 */

/** Applies method decorators the way TypeScript's `@Decorator()` would. */
function decorateMethod(target, method, decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method);
  Object.defineProperty(target.prototype, method, Reflect.decorate(decorators, target.prototype, method, descriptor));
}

function notesController(classDecorators, methodDecorators) {
  class NotesController {
    read() {
      return { notes: [] };
    }
  }
  decorateMethod(NotesController, 'read', [Get('notes'), ...methodDecorators]);
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

  class StockModule {}
  Reflect.decorate([Module({ imports: [PassportModule], controllers: [notesController([UseGuards(AuthGuard('jwt'))], [])], providers: [JwtStrategy] })], StockModule);
  return StockModule;
}

/** The policy the nestjs-authz app decides with: `notes-reader` identity role → `reader` → CanRead. */
const NOTE_POLICY = {
  note: {
    roles: { reader: ['CanRead'], editor: ['CanRead', 'CanWrite'] },
    identityRoles: { 'notes-reader': ['reader'] },
    subjects: { susan: { roles: ['editor'] } },
  },
};

/** Scenarios 3-5: nestjs-authz as its README sets it up (APP_GUARD), defaults for every cache. */
function authzModule({ issuer, jwksUri, authzOptions = {} }) {
  const controller = notesController([], [Scopes('notes:read'), Permissions('CanRead')]);
  class AuthzBenchModule {}
  Reflect.decorate(
    [
      Module({
        imports: [AuthzModule.forRoot({ issuer, audience: AUDIENCE, jwksUri, defaultPolicy: 'note', policies: NOTE_POLICY, ...authzOptions })],
        controllers: [controller],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
      }),
    ],
    AuthzBenchModule,
  );
  return { module: AuthzBenchModule, controller };
}

function appModule(kind, options) {
  if (kind === 'unguarded') return unguardedModule();
  if (kind === 'stock') return stockModule(options);
  if (kind === 'authz') return authzModule(options).module;
  throw new Error(`unknown app kind '${kind}'`);
}

module.exports = { appModule, authzModule, NOTE_POLICY, AUTHZ_CONFIG };
