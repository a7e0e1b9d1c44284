// oidc-provider ships no type declarations; these cover the parts the local development provider uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: { sign?: { alg?: string; kid?: string } };
  }

  export interface ResourceServer {
    readonly audience?: string;
    readonly scope: string;
    identifier(): string;
  }

  export interface Client {
    readonly clientId: string;
    readonly scope?: string;
    /** `none` for public clients. */
    readonly clientAuthMethod: string;
    /** Exact match, or for native clients a loopback http URI on any port (RFC 8252 §7.3). */
    redirectUriAllowed(uri: string): boolean;
  }

  /** A login/consent interaction in progress (`interactions.url`), found through its cookie. */
  export interface Interaction {
    readonly uid: string;
    /** The authorization request's parameters: client_id, scope, redirect_uri, resource, ... */
    readonly params: Record<string, unknown>;
    readonly prompt: { readonly name: string; readonly reasons: string[]; readonly details: Record<string, unknown> };
    /** The grant the client already has for the session's account, when there is one. */
    readonly grantId?: string;
    readonly session?: { readonly accountId?: string };
  }

  /** What the end-user allowed a client (scopes per resource server). */
  export interface Grant {
    readonly accountId?: string;
    readonly clientId?: string;
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(ttl?: number): Promise<string>;
  }

  export interface InteractionResults {
    login?: { accountId: string; remember?: boolean };
    consent?: { grantId: string };
    [prompt: string]: unknown;
  }

  export interface AccessToken {
    accountId?: string;
    scope?: string;
    resourceServer?: ResourceServer;
    readonly expiration: number;
    save(): Promise<string>;
  }

  export interface KoaContextWithOIDC {
    oidc: {
      readonly params: Record<string, unknown>;
      readonly client?: Client;
      readonly provider: Provider;
    };
    body: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>>;
  }

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    grant_types?: string[];
    redirect_uris?: string[];
    response_types?: string[];
    scope?: string;
    [key: string]: unknown;
  }

  export interface Configuration {
    clients?: ClientMetadata[];
    jwks?: { keys: Record<string, unknown>[] };
    cookies?: { keys?: string[] };
    scopes?: string[];
    claims?: Record<string, string[] | null>;
    responseTypes?: string[];
    ttl?: Record<string, number>;
    features?: Record<string, Record<string, unknown>>;
    findAccount?: (ctx: KoaContextWithOIDC, id: string) => Promise<Account | undefined>;
    clientBasedCORS?: (ctx: KoaContextWithOIDC, origin: string, client: Client) => boolean;
    extraTokenClaims?: (ctx: KoaContextWithOIDC, token: { accountId?: string }) => Promise<Record<string, unknown> | undefined>;
    [option: string]: unknown;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    readonly AccessToken: new (init: { accountId: string; client: Client; scope?: string; gty?: string }) => AccessToken;
    readonly ResourceServer: new (identifier: string, info: ResourceServerInfo) => ResourceServer;
    readonly Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
    /** The interaction named by the request's interaction cookie; rejects (SessionNotFound) when there is none. */
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    /** Stores the result and answers 303 to the authorization endpoint's resume URL. */
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: InteractionResults, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    registerGrantType(name: string, handler: (ctx: KoaContextWithOIDC) => Promise<void>, parameters?: string[]): void;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export const errors: {
    InvalidScope: new (description: string, scope?: string) => Error;
    InvalidTarget: new (description?: string) => Error;
    InvalidRequest: new (description: string) => Error;
    CustomOIDCProviderError: new (error: string, description: string) => Error;
  };

  export default Provider;
}
