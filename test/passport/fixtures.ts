import { Controller, Get, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy as JwtStrategyBase } from 'passport-jwt';
import { CurrentIdentity, Permissions, Public, Scopes, type AuthzIdentity } from 'nestjs-authz';

export const AUDIENCE = 'notes-api';
export const REALM_CHALLENGE = `Bearer realm="${AUDIENCE}"`;
export const invalidToken = (description: string) => `Bearer realm="${AUDIENCE}", error="invalid_token", error_description="${description}"`;

/** Routes for both passport modes: public, identity only, a scope, a scope plus a permission, a permission nobody holds. */
@Controller()
export class PassportFixtureController {
  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }

  @Get('me')
  me(@CurrentIdentity() identity: AuthzIdentity) {
    return { subject: identity.subject, issuer: identity.issuer, scopes: identity.scopes, frozen: Object.isFrozen(identity) };
  }

  @Scopes('notes:read')
  @Permissions('CanRead')
  @Get('notes')
  notes(@CurrentIdentity('subject') subject: string) {
    return { subject };
  }

  @Scopes('admin')
  @Get('admin')
  admin() {
    return { ok: true };
  }

  @Permissions('CanDelete')
  @Get('delete')
  remove() {
    return { ok: true };
  }
}

export const passportPolicies = {
  note: {
    roles: { reader: ['CanRead'] },
    subjects: { susan: { roles: ['reader'] }, 'svc-reader': { roles: ['reader'] } },
  },
};

/** The app's own passport-jwt strategy ('jwt'), keys from a JWKS through jwks-rsa, as the passport docs set it up. */
export function jwtStrategyFor(jwksUri: string, issuer: string) {
  @Injectable()
  class JwtStrategy extends PassportStrategy(JwtStrategyBase, 'jwt') {
    constructor() {
      super({
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKeyProvider: passportJwtSecret({ jwksUri, cache: true }),
        algorithms: ['RS256'],
        issuer,
        audience: AUDIENCE,
      });
    }

    validate(payload: Record<string, unknown>) {
      return payload;
    }
  }
  return JwtStrategy;
}

type Done = (error: unknown, user?: unknown) => void;

/** A minimal API-key strategy (the passport-strategy contract), reading `X-API-Key`. */
class ApiKeyBase {
  readonly name = 'api-key';
  constructor(private readonly verify: (key: string, done: Done) => void) {}

  authenticate(this: ApiKeyBase & { fail(): void; error(e: unknown): void; success(u: unknown): void }, request: { headers: Record<string, unknown> }) {
    const key = request.headers['x-api-key'];
    if (typeof key !== 'string' || key === '') return this.fail();
    this.verify(key, (error, user) => (error ? this.error(error) : user ? this.success(user) : this.fail()));
  }
}

export interface ApiClient {
  readonly id: string;
  readonly scopes: string[];
}

export const API_KEYS: Record<string, ApiClient | 'db-down'> = {
  'key-reader': { id: 'svc-reader', scopes: ['notes:read'] },
  'key-admin': { id: 'svc-admin', scopes: ['notes:read', 'admin'] },
  'key-nameless': { id: '', scopes: [] },
  'key-broken': 'db-down',
};

@Injectable()
export class ApiKeyStrategy extends PassportStrategy(ApiKeyBase, 'api-key') {
  validate(key: string): ApiClient | null {
    const client = Object.hasOwn(API_KEYS, key) ? API_KEYS[key] : undefined;
    if (client === 'db-down') throw new Error('connection to the key store refused');
    return client ?? null;
  }
}

/** The app's mapping: JWT payloads and API clients to identities. */
export function toIdentity(user: unknown) {
  const record = user as Record<string, unknown>;
  if (typeof record.sub === 'string') {
    return { subject: record.sub, issuer: record.iss as string, audience: record.aud as string, scopes: record.scope as string, claims: record };
  }
  const client = user as ApiClient;
  return { subject: client.id, issuer: 'api-key', scopes: client.scopes };
}

export const hasCredentials = (request: { headers: Record<string, unknown> }) => request.headers.authorization !== undefined || request.headers['x-api-key'] !== undefined;
