export { TEST_CLIENT_ID, TestTokenIssuer, type TestTokenClaims } from './test-token-issuer';
