export { TestTokenIssuer, type TestTokenClaims } from './test-token-issuer';
