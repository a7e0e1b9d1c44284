import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Interaction, Provider } from 'oidc-provider';
import { isDemoUser } from './demo-users';
import { renderLoginPage, renderProblemPage } from './login-page';

/** Where oidc-provider sends the browser to sign in (`interactions.url`); the provider's HTTP server routes it here. */
export const INTERACTION_PATH = '/interaction/';

/** The interaction URL of an interaction (oidc-provider's `interactions.url`). */
export const interactionUrl = (uid: string): string => `${INTERACTION_PATH}${uid}`;

/** Whether a request to the provider's server is for the login page rather than oidc-provider itself. */
export const isInteractionRequest = (url: string | undefined): boolean => (url ?? '').startsWith(INTERACTION_PATH);

/** What a sign-in may grant: the provider's scopes (its `scopes` setting) and those of its one resource server. */
export interface GrantableScopes {
  /** The provider's own scopes, `openid` and the others of its `scopes` setting (oidc-provider's "OIDC scopes"). */
  readonly oidcScopes: readonly string[];
  /** The notes API: its resource indicator and its scopes. */
  readonly resource: { readonly indicator: string; readonly scopes: readonly string[] };
}

/** Form bodies are one short field; anything longer is not from the login page. */
const MAX_BODY_BYTES = 4096;

/**
 * The login page of the local provider, at `GET|POST /interaction/<uid>`:
 * - GET shows the form (see login-page.ts);
 * - POST `user=<demo user>` signs that user in and grants the client the scopes it asked for, then sends the browser
 *   back to the authorization endpoint (303), which redirects to the client with a code. Anything but a demo user
 *   gets the form again with an error (400).
 *
 * Consent is implicit: the demo has no consent screen, signing in grants every requested scope the client may have.
 *
 * oidc-provider asks native clients (the console is one, for its loopback redirect URI) for an interaction on every
 * authorization, so the page shows on each console sign-in and the same browser can switch demo users; on a switch,
 * oidc-provider itself first ends the old session (a self-submitting form, "Continue" without JavaScript).
 *
 * CSRF: the interaction is found by oidc-provider's interaction cookie (signed, HttpOnly, SameSite=Lax, scoped to this
 * path), so a cross-site form post does not carry it; the uid in the URL must be that interaction's, and a POST whose
 * `Origin` is not the provider's own is refused. That is enough for a development provider on 127.0.0.1.
 */
export function createInteractionHandler(provider: Provider, grantable: GrantableScopes): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const ownOrigin = new URL(provider.issuer).origin;
  return async (req, res) => {
    try {
      const uid = new URL(req.url ?? '/', ownOrigin).pathname.slice(INTERACTION_PATH.length);
      // oidc-provider's uids are nanoids; anything else (a deeper path, escapes) is not an interaction.
      if (!/^[\w-]+$/.test(uid)) return send(res, 404, renderProblemPage('Not found', 'There is no such page on this provider.'));
      if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
        res.setHeader('Allow', 'GET, HEAD, POST');
        return send(res, 405, renderProblemPage('Method not allowed', 'The sign-in page only answers GET and POST.'));
      }
      const interaction = await currentInteraction(provider, req, res, uid);
      if (!interaction) {
        return send(res, 400, renderProblemPage('Sign-in expired', 'This sign-in is unknown or has expired. Start again from the application that sent you here.'));
      }
      const page = { action: interactionUrl(uid), clientId: String(interaction.params.client_id), scopes: requestedScopes(interaction) };
      if (req.method !== 'POST') return send(res, 200, renderLoginPage(page), req.method === 'HEAD');

      const origin = req.headers.origin;
      if (origin !== undefined && origin !== ownOrigin) {
        return send(res, 403, renderProblemPage('Forbidden', 'The sign-in form can only be submitted from this provider.'));
      }
      const user = (await formBody(req)).get('user') ?? '';
      if (!isDemoUser(user)) {
        const error = user ? `${user} is not a demo user. Choose one of the users below.` : 'Choose a demo user.';
        return send(res, 400, renderLoginPage({ ...page, error }));
      }
      const grantId = await grantRequestedScopes(provider, interaction, user, grantable);
      // Consent is given together with the login: the demo has no consent screen.
      await provider.interactionFinished(req, res, { login: { accountId: user }, consent: { grantId } }, { mergeWithLastSubmission: false });
    } catch (error) {
      if (error instanceof FormError) return send(res, error.status, renderProblemPage('Bad request', error.message));
      if (!res.headersSent) send(res, 500, renderProblemPage('Sign-in failed', 'The provider could not complete the sign-in. Start again.'));
      else res.destroy();
      console.error('local OpenID provider: sign-in failed', error);
    }
  };
}

/** The interaction of the request's cookie, if it is the one named in the URL. */
async function currentInteraction(provider: Provider, req: IncomingMessage, res: ServerResponse, uid: string): Promise<Interaction | undefined> {
  let interaction: Interaction;
  try {
    interaction = await provider.interactionDetails(req, res);
  } catch {
    // SessionNotFound: no interaction cookie, or the interaction (or its session) expired.
    return undefined;
  }
  return interaction.uid === uid ? interaction : undefined;
}

const requestedScopes = (interaction: Interaction): string[] =>
  [...new Set(String(interaction.params.scope ?? '').split(' ').filter(Boolean))];

/**
 * A grant of `user` to the interaction's client: the requested OIDC scopes, and the requested scopes of the notes API
 * (the authorization endpoint has already refused scopes the client may not ask for). oidc-provider checks both:
 * the notes scopes are in the provider's `scopes` setting too, so they are OIDC scopes as well as resource scopes;
 * the access token carries the resource scopes. Extends the client's earlier grant for the same user, if the
 * interaction has one.
 */
async function grantRequestedScopes(provider: Provider, interaction: Interaction, user: string, grantable: GrantableScopes): Promise<string> {
  const clientId = String(interaction.params.client_id);
  const earlier = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant = earlier && earlier.accountId === user && earlier.clientId === clientId ? earlier : new provider.Grant({ accountId: user, clientId });
  const scopes = requestedScopes(interaction);
  const oidcScopes = scopes.filter((scope) => grantable.oidcScopes.includes(scope));
  const apiScopes = scopes.filter((scope) => grantable.resource.scopes.includes(scope));
  if (oidcScopes.length > 0) grant.addOIDCScope(oidcScopes.join(' '));
  if (apiScopes.length > 0) grant.addResourceScope(grantable.resource.indicator, apiScopes.join(' '));
  return grant.save();
}

class FormError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The form-encoded body of the login form. */
async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new FormError(415, 'The sign-in form is sent as application/x-www-form-urlencoded.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new FormError(413, 'The sign-in form is much shorter than this.');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res: ServerResponse, status: number, html: string, headOnly = false): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(html));
  res.setHeader('Cache-Control', 'no-store');
  // No scripts, no framing (clickjacking); `same-origin` keeps the form post's Origin header meaningful.
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(headOnly ? undefined : html);
}
