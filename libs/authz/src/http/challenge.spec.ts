import {
  InsufficientScopeException,
  InvalidRequestException,
  InvalidTokenException,
  KeySetUnavailableException,
  MissingCredentialsException,
  PermissionDeniedException,
  PolicyUnavailableException,
} from '../authz.exceptions';
import { refusalHeaders } from './challenge';

describe('refusalHeaders', () => {
  it('should send a bare challenge without an error code for missing credentials', () => {
    expect(refusalHeaders(new MissingCredentialsException(), 'notes-api')).toEqual({ 'WWW-Authenticate': 'Bearer realm="notes-api"' });
  });

  it('should name the error and its description for invalid_token and invalid_request', () => {
    expect(refusalHeaders(new InvalidTokenException('The token has expired'), 'api')).toEqual({
      'WWW-Authenticate': 'Bearer realm="api", error="invalid_token", error_description="The token has expired"',
    });
    expect(refusalHeaders(new InvalidRequestException('More than one Authorization header'), 'api')['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="invalid_request", error_description="More than one Authorization header"',
    );
  });

  it('should list the required scopes for insufficient_scope', () => {
    expect(refusalHeaders(new InsufficientScopeException(['a', 'b'], 'lacks a'), 'api')['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="lacks a", scope="a b"',
    );
  });

  it('should keep description and scope to printable ASCII without quote or backslash (RFC 6750 §3)', () => {
    const header = refusalHeaders(new InsufficientScopeException(['a"b', 'c\\d', 'é\r\n'], 'say "hi"\\\u0000é'), 'api')['WWW-Authenticate'];
    expect(header).toBe('Bearer realm="api", error="insufficient_scope", error_description="say hi", scope="ab cd "');
  });

  it('should send no challenge for a policy denial, and Retry-After for the 503s', () => {
    expect(refusalHeaders(new PermissionDeniedException('note', ['CanRead'], 'all'), 'api')).toEqual({});
    expect(refusalHeaders(new PolicyUnavailableException('note'), 'api')).toEqual({ 'Retry-After': '5' });
    expect(refusalHeaders(new KeySetUnavailableException(12), 'api')).toEqual({ 'Retry-After': '12' });
  });
});
