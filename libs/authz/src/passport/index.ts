// nestjs-authz/passport: @nestjs/passport interop. A separate entry point, so that the main entry never loads
// @nestjs/passport or passport (optional peers). See docs/passport.md.
export { PassportAuthzGuard } from './passport-authz.guard';
export { AuthzJwtStrategy, AuthzBearerStrategy } from './authz-jwt.strategy';
export { AuthzJwtGuard } from './authz-jwt.guard';
export {
  AUTHZ_JWT,
  AuthenticationUnavailableException,
  CREDENTIALS_REFUSED,
  PASSPORT_IDENTITY,
  resolvePassportIdentity,
  type PassportIdentity,
  type PassportIdentityOptions,
  type ResolvedPassportIdentity,
} from './passport-identity';
