import { Logger } from '@nestjs/common';
import { MAX_ISSUER_LENGTH, resolveIssuerOptions, type AuthzConfig, type IssuerConfig } from '../authz.config';
import type { JwtAlgorithm } from '../authz.constants';
import { AuthzConfigurationError, KeySetUnavailableException, withoutStack } from '../authz.exceptions';
import { BoundedCache } from '../cache/bounded-cache';
import { deepFreeze } from '../deep-freeze';
import { KeySet } from './key-set';

/** A token header that passed an issuer's header checks. */
export interface CheckedHeader {
  readonly alg: JwtAlgorithm;
  readonly kid?: string;
}

/** One trusted issuer as the verifier uses it: its rules, its own key set, and its memo of checked headers. */
export interface VerifyingIssuer {
  readonly rules: IssuerConfig;
  readonly keys: KeySet;
  readonly checkedHeaders: Map<string, CheckedHeader>;
}

interface Resolved {
  readonly issuer: VerifyingIssuer;
  /** The resolver's answer, validated, as JSON: an unchanged answer keeps its key set. */
  readonly fingerprint: string;
  readonly resolvedAt: number;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The issuers of the `issuers` option, looked up by a token's unverified `iss`. A listed issuer's key set is made at
 * start (it downloads nothing until a token needs a key); a resolved issuer's when the resolver first vouches for it.
 *
 * Nothing a token says reaches the network: an `iss` that is not a string of 1 to {@link MAX_ISSUER_LENGTH}
 * characters without control characters is refused before any lookup; an unlisted one is refused at once; with a
 * resolver, an unknown one is remembered (at most `maxUnknownIssuers`, for `unknownCacheMs`), so a flood of made-up
 * issuers asks the resolver once each and never downloads a key. Resolved issuers are held in a separate bounded map
 * (`maxIssuers`), so such a flood cannot push out the real ones.
 */
export class IssuerRegistry {
  private readonly logger = new Logger('AuthzIssuers');
  private readonly listed?: ReadonlyMap<string, VerifyingIssuer>;
  private readonly resolved?: BoundedCache<string, Resolved>;
  private readonly unknown?: BoundedCache<string, true>;
  private readonly pending = new Map<string, Promise<VerifyingIssuer | null>>();
  /** Calls of the resolver so far; read by tests. */
  resolverCalls = 0;

  constructor(
    private readonly config: AuthzConfig,
    private readonly now: () => number = Date.now,
    /** Told about each key set made, so the verifier can forget what a removed key vouched for. */
    private readonly onKeySet: (keys: KeySet) => void = () => undefined,
  ) {
    const issuers = config.issuers!;
    if (issuers.resolve) {
      this.resolved = new BoundedCache(issuers.maxIssuers, now);
      this.unknown = new BoundedCache(issuers.maxUnknownIssuers, now);
    } else {
      this.listed = new Map(issuers.list.map((rules) => [rules.issuer, this.create(rules)]));
    }
  }

  /** Issuers held: the listed ones, or those the resolver vouched for (at most `maxIssuers`). */
  get size(): number {
    return this.listed?.size ?? this.resolved!.size;
  }

  /** Unknown issuers remembered (at most `maxUnknownIssuers`; 0 without a resolver). */
  get unknownCount(): number {
    return this.unknown?.size ?? 0;
  }

  /**
   * The issuer `iss` names; `null` when it is not trusted; `undefined` when the resolver must be asked first
   * ({@link resolve}). Never waits, never throws.
   */
  lookup(iss: unknown): VerifyingIssuer | null | undefined {
    if (typeof iss !== 'string' || iss.length === 0 || iss.length > MAX_ISSUER_LENGTH || CONTROL.test(iss)) return null;
    if (this.listed) return this.listed.get(iss) ?? null;
    const hit = this.resolved!.get(iss);
    if (hit && this.now() - hit.resolvedAt < this.config.issuers!.cacheMs) return hit.issuer;
    if (this.unknown!.get(iss)) return null;
    return undefined;
  }

  /**
   * Like {@link lookup}, asking the resolver when needed (one call at a time per `iss`). Throws 503 when the resolver
   * fails or gives no answer within `jwksTimeoutMs`; such a failure is not remembered.
   */
  resolve(iss: string): Promise<VerifyingIssuer | null> {
    const known = this.lookup(iss);
    if (known !== undefined) return Promise.resolve(known);
    let answer = this.pending.get(iss);
    if (!answer) {
      answer = this.ask(iss).finally(() => this.pending.delete(iss));
      this.pending.set(iss, answer);
    }
    return answer;
  }

  private async ask(iss: string): Promise<VerifyingIssuer | null> {
    const issuers = this.config.issuers!;
    this.resolverCalls++;
    let answer: unknown;
    const timeoutMs = this.config.jwksTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      answer = await Promise.race([
        Promise.resolve().then(() => issuers.resolve!(iss)),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`it gave no answer within ${timeoutMs} ms`)), timeoutMs);
          timer.unref?.();
        }),
      ]);
    } catch (error) {
      this.logger.error(`issuers.resolve() failed for iss ${quote(iss)}: ${(error as Error)?.message ?? String(error)}. Refusing with 503.`);
      throw withoutStack(() => new KeySetUnavailableException(1));
    } finally {
      clearTimeout(timer);
    }
    if (answer === undefined || answer === null) {
      this.unknown!.set(iss, true, issuers.unknownCacheMs);
      return null;
    }
    let issuer: VerifyingIssuer;
    let fingerprint: string;
    try {
      const rules = resolveIssuerOptions(answer, this.config, 'issuers.resolve(iss).');
      if (rules.issuer !== iss) {
        throw new AuthzConfigurationError(`the answer names issuer ${quote(rules.issuer)}.`, 'answer with the options of the issuer asked about (its `issuer` equal to `iss`), or undefined.');
      }
      fingerprint = JSON.stringify(rules);
      const stale = this.resolved!.get(iss);
      issuer = stale?.fingerprint === fingerprint ? stale.issuer : this.create(deepFreeze(rules));
    } catch (error) {
      // A mistake of the app's resolver, not of the caller: logged, and the issuer is treated as unknown.
      this.logger.error(`issuers.resolve() answered for iss ${quote(iss)} with unusable options, so it is not trusted: ${(error as Error)?.message ?? String(error)}`);
      this.unknown!.set(iss, true, issuers.unknownCacheMs);
      return null;
    }
    this.resolved!.set(iss, { issuer, fingerprint, resolvedAt: this.now() });
    return issuer;
  }

  private create(rules: IssuerConfig): VerifyingIssuer {
    const keys = new KeySet(rules, this.now);
    this.onKeySet(keys);
    return { rules, keys, checkedHeaders: new Map() };
  }
}

/** An `iss` for a log line: JSON-quoted (no control characters reach the log) and cut short. */
function quote(iss: string): string {
  return JSON.stringify(iss.length > 200 ? `${iss.slice(0, 200)}…` : iss);
}
