import { InsufficientScopeException, type AuthzException } from '../authz.exceptions';

/** Response headers for a refusal: the RFC 6750 §3 `WWW-Authenticate` challenge and, on 503, `Retry-After`. */
export function refusalHeaders(exception: AuthzException, realm: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (exception.challenge) {
    const params = [`realm="${realm}"`];
    if (exception.bearerError) {
      params.push(`error="${exception.bearerError}"`, `error_description="${quotable(exception.description)}"`);
    }
    if (exception instanceof InsufficientScopeException) params.push(`scope="${quotable(exception.requiredScopes.join(' '))}"`);
    headers['WWW-Authenticate'] = `Bearer ${params.join(', ')}`;
  }
  if (exception.retryAfter !== undefined) headers['Retry-After'] = String(exception.retryAfter);
  return headers;
}

// RFC 6750 §3: error_description and scope are printable ASCII without '"' and '\'.
function quotable(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
}
