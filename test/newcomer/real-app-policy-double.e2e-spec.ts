import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { PolicyService, type AuthzIdentity } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { AppModule } from '../../apps/notes/src/app.module';
import { FIRST_DATABASE_TIMEOUT_MS, freshDataDir } from '../support/embedded-postgres';

// A double: susan may read and write, nobody holds anything else.
class SusanReadsAndWrites extends PolicyService {
  async hasPermission(_policy: string, identity: AuthzIdentity, permission: string) {
    return identity.subject === 'susan' && (permission === 'CanRead' || permission === 'CanWrite');
  }
}

describe('the notes app, with a PolicyService double', () => {
  const issuer = TestTokenIssuer.create({ audience: 'notes-api' });
  let data: Awaited<ReturnType<typeof freshDataDir>>;
  let app: INestApplication;

  beforeAll(async () => {
    data = await freshDataDir();
    const moduleRef = await issuer
      .override(
        Test.createTestingModule({
          imports: [AppModule.register({ authz: { issuer: 'https://login.example.com/', audience: 'notes-api' }, database: { dataDir: data.dataDir } })],
        }),
      )
      .overrideProvider(PolicyService) // the guard and every module that injects PolicyService get the double
      .useClass(SusanReadsAndWrites)
      .compile();
    app = await moduleRef.createNestApplication({ logger: false }).init();
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await app?.close();
    await data?.remove();
  });

  it('should decide in the guard with the double: alice, a writer in the store, is refused', async () => {
    const token = issuer.sign({ sub: 'alice', scopes: ['notes:read'] });
    await request(app.getHttpServer()).get('/notes').auth(token, { type: 'bearer' }).expect(403);
  });

  it("should decide in the notes module's business code with the double too", async () => {
    const token = issuer.sign({ sub: 'susan', scopes: ['notes:read', 'notes:write'] });
    await request(app.getHttpServer()).post('/notes').send({ title: 'Salaries', confidential: true }).auth(token, { type: 'bearer' }).expect(201);
    await request(app.getHttpServer()).post('/notes').send({ title: 'Roadmap' }).auth(token, { type: 'bearer' }).expect(201);
    // The store grants susan CanReadConfidentialNotes; the double does not, and NotesService asks the double.
    const res = await request(app.getHttpServer()).get('/notes').auth(token, { type: 'bearer' }).expect(200);
    expect(res.body.map((note: { title: string }) => note.title)).toEqual(['Roadmap']);
  });
});
