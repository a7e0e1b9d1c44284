import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { AppModule } from '../../apps/notes/src/app.module';
import { FIRST_DATABASE_TIMEOUT_MS, freshDataDir } from '../support/embedded-postgres';

describe('the notes app, trusting a TestTokenIssuer', () => {
  const issuer = TestTokenIssuer.create({ audience: 'notes-api' }); // the app's own audience
  let data: Awaited<ReturnType<typeof freshDataDir>>;
  let app: INestApplication;

  beforeAll(async () => {
    data = await freshDataDir(); // an empty embedded database for the app
    const moduleRef = await issuer
      .override(
        Test.createTestingModule({
          imports: [AppModule.register({ authz: { issuer: 'https://login.example.com/', audience: 'notes-api' }, database: { dataDir: data.dataDir } })],
        }),
      )
      .compile();
    app = await moduleRef.createNestApplication({ logger: false }).init();
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await app?.close();
    await data?.remove();
  });

  it('should let susan read, as the policy store says', async () => {
    const token = issuer.sign({ sub: 'susan', scopes: ['notes:read'] });
    await request(app.getHttpServer()).get('/notes').auth(token, { type: 'bearer' }).expect(200);
  });

  it('should refuse bob, whom the policy store grants nothing', async () => {
    const token = issuer.sign({ sub: 'bob', scopes: ['notes:read'] });
    const res = await request(app.getHttpServer()).get('/notes').auth(token, { type: 'bearer' }).expect(403);
    expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanRead'] });
  });

  it('should refuse what the real guard refuses', async () => {
    await request(app.getHttpServer()).get('/notes').expect(401);
    await request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'susan', scopes: [] }), { type: 'bearer' }).expect(403);
    await request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'susan', scopes: ['notes:read'], aud: 'other-api' }), { type: 'bearer' }).expect(401);
  });
});
