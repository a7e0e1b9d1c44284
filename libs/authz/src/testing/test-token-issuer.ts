import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { AuthzModuleOptions, JsonWebKeySet } from '../authz.options';

/** Claims for {@link TestTokenIssuer.sign}; anything else is copied into the payload as given. */
export interface TestTokenClaims {
  /** `sub`. Default `'test-user'`. */
  sub?: string;
  /** Joined into the `scope` claim. */
  scopes?: string[];
  /** Put into a top-level `roles` claim (the default claim mapping). */
  roles?: string[];
  /** Seconds until `exp`. Default 300. Negative values mint expired tokens. */
  expiresIn?: number;
  [claim: string]: unknown;
}

/**
 * Mints real RS256 access tokens for tests, with a key pair made in memory: no identity provider, no network.
 * Plug it into the module with one call, and the real guard verifies every token it signs.
 *
 * @example
 * const issuer = TestTokenIssuer.create();
 * const moduleRef = await Test.createTestingModule({
 *   imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies }))],
 *   controllers: [NotesController],
 *   providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
 * }).compile();
 * const token = issuer.sign({ sub: 'susan', scopes: ['notes:read'] });
 * await request(app.getHttpServer()).get('/notes').auth(token, { type: 'bearer' }).expect(200);
 */
export class TestTokenIssuer {
  /** The public keys, as a JWK Set. */
  readonly jwks: JsonWebKeySet;

  private constructor(
    readonly issuer: string,
    readonly audience: string,
    readonly kid: string,
    private readonly privateKey: KeyObject,
    publicKey: KeyObject,
  ) {
    this.jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] };
  }

  /** A new issuer with a fresh 2048-bit RSA key. Defaults: issuer `https://issuer.test/`, audience `test-api`. */
  static create(options: { issuer?: string; audience?: string; kid?: string } = {}): TestTokenIssuer {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return new TestTokenIssuer(options.issuer ?? 'https://issuer.test/', options.audience ?? 'test-api', options.kid ?? randomUUID(), privateKey, publicKey);
  }

  /** AuthzModule options that trust this issuer (fixed key set, no download), merged with yours. */
  moduleOptions(overrides: Partial<AuthzModuleOptions> = {}): AuthzModuleOptions {
    return { issuer: this.issuer, audience: this.audience, jwks: this.jwks, ...overrides };
  }

  /** A signed access token (`typ: at+jwt`) for this issuer and audience. */
  sign(claims: TestTokenClaims = {}): string {
    const { sub = 'test-user', scopes, roles, expiresIn = 300, ...rest } = claims;
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      aud: this.audience,
      sub,
      client_id: 'test-client',
      iat: now,
      exp: now + expiresIn,
      jti: randomUUID(),
      ...(scopes ? { scope: scopes.join(' ') } : {}),
      ...(roles ? { roles } : {}),
      ...rest,
    };
    return this.signPayload(payload);
  }

  /** Signs any header and payload with this issuer's key: for tests of what the guard refuses. */
  signPayload(payload: unknown, header: Record<string, unknown> = {}): string {
    const fullHeader = { alg: 'RS256', typ: 'at+jwt', kid: this.kid, ...header };
    const input = `${encode(fullHeader)}.${encode(payload)}`;
    return `${input}.${sign('sha256', Buffer.from(input), this.privateKey).toString('base64url')}`;
  }
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
