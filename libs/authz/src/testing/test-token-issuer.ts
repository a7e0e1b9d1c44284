import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { TestingModuleBuilder } from '@nestjs/testing';
import { resolveAuthzConfig, type AuthzConfig } from '../authz.config';
import { AuthzConfigurationError } from '../authz.exceptions';
import { AUTHZ_MODULE_OPTIONS, type AuthzModuleExtras } from '../authz.module-definition';
import type { AuthzModuleOptions, JsonWebKeySet } from '../authz.options';
import { AUTHZ_CONFIG } from '../authz.tokens';

/** The `client_id` claim of every token {@link TestTokenIssuer.sign} mints. */
export const TEST_CLIENT_ID = 'test-client';

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
 * Plug it into the module with one call, and the real guard verifies every token it signs: {@link override} for
 * the app's own AppModule, {@link moduleOptions} for a small test module.
 *
 * @example
 * // The real app:
 * const issuer = TestTokenIssuer.create({ audience: 'notes-api' });
 * const moduleRef = await issuer.override(Test.createTestingModule({ imports: [AppModule] })).compile();
 *
 * @example
 * // A small test module:
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

  /**
   * AuthzModule options that trust this issuer (fixed key set, no download), merged with yours. The module extras
   * (`policyService`, `isGlobal`) may be given here too.
   *
   * @example
   * AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies, policyService: MyPolicyService }))
   */
  moduleOptions(overrides: Partial<AuthzModuleOptions> & AuthzModuleExtras = {}): AuthzModuleOptions & AuthzModuleExtras {
    return { issuer: this.issuer, audience: this.audience, jwks: this.jwks, ...overrides };
  }

  /**
   * Makes the app's own AuthzModule (`forRoot` or `forRootAsync`, wherever it is imported) trust this issuer instead
   * of the configured provider: the issuer becomes this one's and the key set this one's JWKS (nothing is discovered
   * or downloaded); every other option of the app (audience, claims, policies or policy store, ...) stays as the app
   * gives it, and the real guard verifies every token. Returns the builder, so further overrides chain.
   *
   * The app must accept this issuer's tokens otherwise: create it with the app's audience
   * (`TestTokenIssuer.create({ audience: 'notes-api' })`); `compile()` fails with an {@link AuthzConfigurationError}
   * saying so when it does not.
   *
   * @example
   * const issuer = TestTokenIssuer.create({ audience: 'notes-api' });
   * const moduleRef = await issuer
   *   .override(Test.createTestingModule({ imports: [AppModule] }))
   *   .overrideProvider(PolicyService) // optional: the guard and every module get the double
   *   .useClass(OnlySusanReads)
   *   .compile();
   */
  override(builder: TestingModuleBuilder): TestingModuleBuilder {
    return builder.overrideProvider(AUTHZ_CONFIG).useFactory({
      factory: (options: AuthzModuleOptions) => this.configFor(options),
      inject: [AUTHZ_MODULE_OPTIONS],
    });
  }

  /** The app's configuration with this issuer and its key set in place of the configured provider. */
  private configFor(options: AuthzModuleOptions): AuthzConfig {
    const config = resolveAuthzConfig({ ...options, issuer: this.issuer, jwksUri: undefined, jwks: this.jwks });
    const bound = config.audienceClaim === 'client_id' ? TEST_CLIENT_ID : this.audience;
    if (!config.audiences.includes(bound)) {
      const claim = config.audienceClaim === 'client_id' ? '`client_id`' : '`aud`';
      throw new AuthzConfigurationError(
        `the TestTokenIssuer signs tokens with ${claim} ${JSON.stringify(bound)}, which the app's \`audience\` (${config.audiences.map((a) => JSON.stringify(a)).join(', ')}) does not accept; every token it signs would be refused.`,
        config.audienceClaim === 'client_id'
          ? `list ${JSON.stringify(TEST_CLIENT_ID)} in the app's \`audience\` for tests.`
          : `create the issuer with the app's audience: TestTokenIssuer.create({ audience: ${JSON.stringify(config.audiences[0])} }).`,
      );
    }
    if (!config.algorithms.includes('RS256')) {
      throw new AuthzConfigurationError(
        `the TestTokenIssuer signs with RS256, which the app's \`algorithms\` (${config.algorithms.join(', ')}) does not allow; every token it signs would be refused.`,
        "add 'RS256' to `algorithms` for tests.",
      );
    }
    return config;
  }

  /** A signed access token (`typ: at+jwt`) for this issuer and audience. */
  sign(claims: TestTokenClaims = {}): string {
    const { sub = 'test-user', scopes, roles, expiresIn = 300, ...rest } = claims;
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      aud: this.audience,
      sub,
      client_id: TEST_CLIENT_ID,
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
