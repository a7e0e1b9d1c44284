// `nestjs-authz/admin`: the admin API of the policy store. An entry point of its own, because it validates input
// with class-validator and class-transformer, which apps that never mount it need not install.
export { AuthzAdminModule } from './authz-admin.module';
export type { AuthzAdminOptions, AuthzConsoleOptions } from './authz-admin.options';
export type { ConsoleConfigAnswer } from './console/console.controller';
export { ADMIN_PERMISSION, ADMIN_POLICY, ADMIN_ROLE, ADMIN_SCOPE } from './admin.constants';
export type {
  AuditPageAnswer,
  ExplainAnswer,
  PolicyAnswer,
  PolicyListAnswer,
  PolicyWriteAnswer,
  ResourceGrantsAnswer,
  SubjectGrantsAnswer,
  SubjectResourcesAnswer,
} from './admin-answers';
