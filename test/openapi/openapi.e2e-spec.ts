import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject, type OperationObject } from '@nestjs/swagger';
import { AuthzConfigurationError } from 'nestjs-authz';
// Not yet mapped in tsconfig/jest: the package's `nestjs-authz/openapi` export points at this directory's build.
import { applyAuthzToOpenApi } from 'nestjs-authz/openapi';
import { ADAPTERS } from '../support/app';
import { createOpenApiApp } from './support/openapi-fixture';

type Operation = OperationObject & Record<string, any>;

const UNAUTHORIZED = expect.objectContaining({ description: expect.stringContaining('Unauthorized'), headers: { 'WWW-Authenticate': expect.objectContaining({ schema: { type: 'string' } }) } });
const UNAVAILABLE = expect.objectContaining({ description: expect.stringContaining('Service Unavailable'), headers: { 'Retry-After': expect.objectContaining({ schema: { type: 'integer' } }) } });

const FLOWS = { clientCredentials: { tokenUrl: 'https://id.example.com/token', scopes: { 'notes:read': 'Read notes' } } };

describe.each(ADAPTERS)('applyAuthzToOpenApi on %s', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createOpenApiApp(adapter, { globalPrefix: 'api' });
  });

  afterAll(async () => {
    await app.close();
  });

  const create = (openapi?: string): OpenAPIObject => SwaggerModule.createDocument(app, { ...new DocumentBuilder().setTitle('fixture').build(), ...(openapi ? { openapi } : {}) });
  const op = (document: OpenAPIObject, method: string, path: string): Operation => {
    const operation = (document.paths[path] as Record<string, Operation> | undefined)?.[method];
    if (!operation) throw new Error(`no ${method} ${path} in ${Object.keys(document.paths).join(', ')}`);
    return operation;
  };

  describe("with the 'oauth2' scheme", () => {
    let document: OpenAPIObject;
    const security = (method: string, path: string) => op(document, method, path).security;

    beforeAll(() => {
      document = applyAuthzToOpenApi(app, create(), { scheme: 'oauth2', flows: FLOWS });
    });

    it('should require the class scope on every route of the controller and add the handler groups to it', () => {
      expect(security('get', '/api/notes')).toEqual([{ oauth2: ['notes:read'] }]);
      expect(security('post', '/api/notes')).toEqual([{ oauth2: ['notes:read', 'notes:write'] }, { oauth2: ['notes:read', 'notes:admin'] }]);
      expect(security('delete', '/api/notes/{id}')).toEqual([
        { oauth2: ['notes:read', 'notes:write', 'notes:admin'] },
        { oauth2: ['notes:read', 'notes:write', 'notes:owner'] },
      ]);
    });

    it('should give @Public routes and controllers no security and no refusal responses', () => {
      for (const [method, path] of [['get', '/api/health'], ['get', '/api/health/files/{name}'], ['get', '/api/pages'], ['get', '/api/pages/{slug}']]) {
        const operation = op(document, method, path);
        expect(operation.security).toEqual([]);
        expect(Object.keys(operation.responses)).toEqual(['200']);
        expect(operation['x-authz-scopes']).toBeUndefined();
      }
    });

    it('should require a valid token, with any scopes, on routes that declare nothing, and document 401 and 503 but no 403', () => {
      const operation = op(document, 'get', '/api/health/details');
      expect(operation.security).toEqual([{ oauth2: [] }]);
      expect(operation.responses).toEqual({ 200: expect.anything(), 401: UNAUTHORIZED, 503: UNAVAILABLE });
      expect(operation.description).toBe('**Authorization:** a valid bearer token.');
    });

    it('should cover every method of an @All route', () => {
      for (const method of ['get', 'post', 'put', 'delete', 'patch', 'options', 'head', 'search']) expect(security(method, '/api/health/echo')).toEqual([{ oauth2: [] }]);
    });

    it('should name the policy, the permissions and the resource of @Permissions routes', () => {
      const read = op(document, 'get', '/api/records/{id}');
      expect(read.security).toEqual([{ oauth2: [] }]);
      expect(read['x-authz-permissions']).toEqual({ policy: 'record', groups: [{ mode: 'all', names: ['CanRead'] }], resource: { from: 'param', name: 'id' } });
      expect(read.responses['403']).toEqual({ description: "Forbidden: policy 'record' does not grant the required permissions (named in the body)." });
      expect((read.responses['503'] as { description: string }).description).toContain("policy 'record' could not be evaluated");
      expect(read.description).toBe("**Authorization:** a valid bearer token; policy 'record' must grant permission `CanRead` on the resource in path parameter `id`.");

      expect(op(document, 'delete', '/api/records/{id}')['x-authz-permissions']).toEqual({ policy: 'record', groups: [{ mode: 'any', names: ['CanDelete', 'CanModerate'] }], resource: { from: 'request' } });
      // The handler's @Policy wins over the class's; without either, the module's defaultPolicy.
      expect(op(document, 'get', '/api/records')['x-authz-permissions']).toEqual({ policy: 'admin', groups: [{ mode: 'all', names: ['CanAudit'] }] });
      expect(op(document, 'get', '/api/defaults')['x-authz-permissions']).toEqual({ policy: 'note', groups: [{ mode: 'all', names: ['CanRead'] }] });
    });

    it('should combine scopes and permissions, and keep a response the app documents itself', () => {
      const replace = op(document, 'put', '/api/records/{id}');
      expect(replace.security).toEqual([{ oauth2: ['records:write'] }]);
      expect(replace['x-authz-permissions']).toEqual({ policy: 'record', groups: [{ mode: 'all', names: ['CanEdit', 'CanPublish'] }], resource: { from: 'param', name: 'id' } });
      expect(replace.responses['403']).toEqual({ description: 'Documented by the app itself.' });
      expect(replace.responses['401']).toEqual(UNAUTHORIZED);
    });

    it("should give a subclass the base class's requirements plus its own, and leave the base class's routes alone", () => {
      expect(security('get', '/api/base')).toEqual([{ oauth2: ['base:read'] }]);
      expect(security('patch', '/api/base/{id}')).toEqual([{ oauth2: ['base:read'] }]);
      expect(security('get', '/api/sub')).toEqual([{ oauth2: ['base:read', 'sub:a'] }, { oauth2: ['base:read', 'sub:b'] }]);
      expect(security('put', '/api/sub')).toEqual([{ oauth2: ['base:read', 'sub:a', 'sub:extra'] }, { oauth2: ['base:read', 'sub:b', 'sub:extra'] }]);
      expect(op(document, 'patch', '/api/sub/{id}')['x-authz-permissions']).toEqual({ policy: 'record', groups: [{ mode: 'all', names: ['CanEdit'] }] });
    });

    it('should find URI-versioned routes', () => {
      expect(security('get', '/api/v2/things/{id}')).toEqual([{ oauth2: ['things:read'] }]);
    });

    it('should document 403 with the insufficient_scope challenge on routes with scopes', () => {
      expect(op(document, 'get', '/api/notes').responses).toEqual({
        200: expect.anything(),
        401: UNAUTHORIZED,
        403: expect.objectContaining({ description: expect.stringContaining('insufficient_scope'), headers: { 'WWW-Authenticate': expect.anything() } }),
        503: UNAVAILABLE,
      });
    });

    it('should add the scheme, with every scope the routes use in its flows, keeping the given descriptions', () => {
      const scheme = document.components!.securitySchemes!.oauth2 as { type: string; flows: typeof FLOWS };
      expect(scheme.type).toBe('oauth2');
      expect(scheme.flows.clientCredentials.tokenUrl).toBe('https://id.example.com/token');
      expect(scheme.flows.clientCredentials.scopes).toEqual({
        'notes:read': 'Read notes',
        'notes:write': '',
        'notes:admin': '',
        'notes:owner': '',
        'records:write': '',
        'base:read': '',
        'sub:a': '',
        'sub:b': '',
        'sub:extra': '',
        'things:read': '',
      });
      expect(FLOWS.clientCredentials.scopes).toEqual({ 'notes:read': 'Read notes' });
    });
  });

  describe("with the 'bearer' scheme (the default)", () => {
    it('should keep the requirement arrays empty on OpenAPI 3.0 and list the scope sets in x-authz-scopes', () => {
      const document = applyAuthzToOpenApi(app, create());
      const post = op(document, 'post', '/api/notes');
      expect(post.security).toEqual([{ bearer: [] }]);
      expect(post['x-authz-scopes']).toEqual([['notes:read', 'notes:write'], ['notes:read', 'notes:admin']]);
      expect(op(document, 'get', '/api/pages').security).toEqual([]);
      expect(document.components!.securitySchemes!.bearer).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    });

    it('should list the scopes in the requirements on OpenAPI 3.1, which allows it for every scheme', () => {
      const document = applyAuthzToOpenApi(app, create('3.1.0'), { schemeName: 'jwt' });
      expect(op(document, 'post', '/api/notes').security).toEqual([{ jwt: ['notes:read', 'notes:write'] }, { jwt: ['notes:read', 'notes:admin'] }]);
      expect(op(document, 'get', '/api/health/details').security).toEqual([{ jwt: [] }]);
      expect(document.components!.securitySchemes!.jwt).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    });

    it('should keep a scheme the document already has', () => {
      const config = new DocumentBuilder().addBearerAuth({ type: 'http', description: 'From the identity provider' }).build();
      const document = applyAuthzToOpenApi(app, SwaggerModule.createDocument(app, config));
      expect(document.components!.securitySchemes!.bearer).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'From the identity provider' });
    });

    it('should leave descriptions alone with describe: false', () => {
      const document = applyAuthzToOpenApi(app, create(), { describe: false });
      expect(op(document, 'get', '/api/notes').description).toBeUndefined();
    });
  });

  describe('when it cannot do what it is asked', () => {
    it("should refuse 'oauth2' without flows when the document has no such scheme", () => {
      expect(() => applyAuthzToOpenApi(app, create(), { scheme: 'oauth2' })).toThrow(AuthzConfigurationError);
      expect(() => applyAuthzToOpenApi(app, create(), { scheme: 'oauth2' })).toThrow(/no OAuth 2.0 flows[\s\S]*How to fix/);
    });

    it('should use the oauth2 scheme the DocumentBuilder added', () => {
      const config = new DocumentBuilder().addOAuth2({ type: 'oauth2', flows: FLOWS }).build();
      const document = applyAuthzToOpenApi(app, SwaggerModule.createDocument(app, config), { scheme: 'oauth2' });
      expect(op(document, 'get', '/api/notes').security).toEqual([{ oauth2: ['notes:read'] }]);
    });

    it('should refuse operations that match no route unless told to ignore them, and then leave them alone', () => {
      const document = SwaggerModule.createDocument(app, new DocumentBuilder().build(), { ignoreGlobalPrefix: true });
      expect(() => applyAuthzToOpenApi(app, document)).toThrow(/found no controller route for GET \/notes,[\s\S]*How to fix/);
      expect(op(applyAuthzToOpenApi(app, document, { ignoreGlobalPrefix: true }), 'get', '/notes').security).toEqual([{ bearer: [] }]);
      const other = SwaggerModule.createDocument(app, new DocumentBuilder().build(), { ignoreGlobalPrefix: true });
      applyAuthzToOpenApi(app, other, { unmatched: 'ignore' });
      expect(op(other, 'get', '/notes').security).toBeUndefined();
    });
  });
});
