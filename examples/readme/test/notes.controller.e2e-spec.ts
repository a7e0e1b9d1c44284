import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthzGuard, AuthzModule } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { notePolicy } from '../notes/note.policy';
import { NotesController } from '../notes/notes.controller';
import { NotesService } from '../notes/notes.service';

describe('NotesController', () => {
  const issuer = TestTokenIssuer.create();
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies: { note: notePolicy } }))],
      controllers: [NotesController],
      providers: [{ provide: APP_GUARD, useClass: AuthzGuard }, NotesService],
    }).compile();
    app = await moduleRef.createNestApplication({ logger: false }).init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('should let susan read', async () => {
    await request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'susan', scopes: ['notes:read'] }), { type: 'bearer' }).expect(200);
  });
});
