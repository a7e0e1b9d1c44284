import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthzGuard, AuthzModule } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { notePolicy } from '../notes/note.policy';
import { NotesService } from '../notes/notes.service';
import { NoteRecordsController } from '../records/note-records.controller';

// README "5. Permissions on single records": the controller as shown, on the README's policy.
describe('NoteRecordsController', () => {
  const issuer = TestTokenIssuer.create();
  let app: INestApplication;
  const as = (sub: string) => ({ Authorization: `Bearer ${issuer.sign({ sub, scopes: ['notes:read'] })}` });

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AuthzModule.forRoot(issuer.moduleOptions({ policies: { note: notePolicy } }))],
      controllers: [NoteRecordsController],
      providers: [{ provide: APP_GUARD, useClass: AuthzGuard }, NotesService],
    }).compile();
    app = await moduleRef.createNestApplication({ logger: false }).init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('should let alice edit the note she created, and nobody else who holds no grant on it', async () => {
    const created = await request(app.getHttpServer()).post('/records').set(as('alice')).send({ title: 'Mine' }).expect(201);
    await request(app.getHttpServer()).patch(`/records/${created.body.id}`).set(as('alice')).send({ title: 'Still mine' }).expect(200);
    const refused = await request(app.getHttpServer()).patch('/records/1').set(as('alice')).send({ title: 'Not mine' }).expect(403);
    expect(refused.body).toMatchObject({ missingPermissions: ['CanEdit'], resource: '1' });
  });

  it('should list confidential notes only to those who may read them', async () => {
    const susan = await request(app.getHttpServer()).get('/records').set(as('susan')).expect(200);
    expect(susan.body.map((note: { title: string }) => note.title)).toContain('Salaries');
    const alice = await request(app.getHttpServer()).get('/records').set(as('alice')).expect(200);
    expect(alice.body.map((note: { title: string }) => note.title)).not.toContain('Salaries');
  });
});
