import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ADAPTERS } from '../support/app';
import { createAdminApp, issuer } from './support/admin-app';
import { seedPolicies } from './support/seed';

// The policy console's files: served only with the `console` option, public, only the console's own files, with
// headers that keep the page to its own scripts and the authorization code out of Referer headers.

describe.each(ADAPTERS)('the policy console on %s', (adapter) => {
  describe('without the console option', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await createAdminApp(adapter, { policies: seedPolicies() });
    });
    afterAll(() => app.close());

    it('should not serve it', async () => {
      await request(app.getHttpServer()).get('/authz/console').expect((res) => expect([401, 404]).toContain(res.status));
      await request(app.getHttpServer()).get('/authz/console/config.json').expect((res) => expect([401, 404]).toContain(res.status));
    });
  });

  describe('with the console option', () => {
    let app: INestApplication;
    const http = () => request(app.getHttpServer());
    beforeAll(async () => {
      app = await createAdminApp(adapter, { policies: seedPolicies(), admin: { console: { clientId: 'policy-console' } } });
    });
    afterAll(() => app.close());

    // Fastify routes no trailing slash unless the app asks for it (`ignoreTrailingSlash`): the console's URL has none.
    it.each(adapter === 'express' ? ['/authz/console', '/authz/console/'] : ['/authz/console'])('should serve the page at %s without a token, its base the console directory', async (path) => {
      const res = await http().get(path).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<base href="/authz/console/">');
      expect(res.text).not.toContain('%BASE%');
    });

    it('should keep the page to its own scripts, out of frames, and send no Referer', async () => {
      const res = await http().get('/authz/console').expect(200);
      const csp = res.headers['content-security-policy'] as string;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain(`connect-src 'self' ${new URL(issuer.issuer).origin}`);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });

    it("should give the page its sign-in settings: AuthzModule's issuer by default, the client and the API's path", async () => {
      const res = await http().get('/authz/console/config.json').expect(200);
      expect(res.body).toEqual({ issuer: issuer.issuer, clientId: 'policy-console', scopes: 'openid authz:admin', api: '/authz' });
    });

    it('should serve its script and styles with their types', async () => {
      expect((await http().get('/authz/console/console.js').expect(200)).headers['content-type']).toMatch(/^text\/javascript/);
      expect((await http().get('/authz/console/console.css').expect(200)).headers['content-type']).toMatch(/^text\/css/);
    });

    it.each(['nope.js', '..%2Fpackage.json', '%2E%2E%2F%2E%2E%2Fpackage.json', 'index.html'])('should answer 404 for %s, never another file', async (name) => {
      const res = await http().get(`/authz/console/${name}`);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('"name"');
    });
  });

  describe('with a console issuer and scopes of its own, under another path', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await createAdminApp(adapter, { policies: seedPolicies(), admin: { path: 'admin/authz', console: { clientId: 'c', issuer: 'https://login.example.com/', scopes: 'openid authz:admin notes:read' } } });
    });
    afterAll(() => app.close());

    it('should give those, and the API path it is mounted under', async () => {
      const res = await request(app.getHttpServer()).get('/admin/authz/console/config.json').expect(200);
      expect(res.body).toEqual({ issuer: 'https://login.example.com/', clientId: 'c', scopes: 'openid authz:admin notes:read', api: '/admin/authz' });
      const page = await request(app.getHttpServer()).get('/admin/authz/console').expect(200);
      expect(page.text).toContain('<base href="/admin/authz/console/">');
      expect(page.headers['content-security-policy']).toContain("connect-src 'self' https://login.example.com");
    });
  });
});
