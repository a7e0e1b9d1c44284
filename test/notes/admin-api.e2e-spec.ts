import './support/notes-test-setup';
import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { startNotesHarness, type NotesHarness } from './support/notes-harness';

interface NoteJson {
  id: string;
  title: string;
}

// The walkthrough of docs/notes-app.md, with tokens from the real local provider: carol (the demo administrator)
// changes susan's grants through /authz, and susan's next request follows; the audit trail names carol.
describe('the admin API of the notes app (/authz)', () => {
  let notes: NotesHarness;
  let confidential: NoteJson;
  let publicNote: NoteJson;

  const bearer = async (user: string, scopes?: string[]) => ({ Authorization: `Bearer ${await notes.tokenFor(user, scopes)}` });
  const admin = () => bearer('carol', ['authz:admin']);
  const susanSees = async () => ((await notes.http().get('/notes').set(await bearer('susan')).expect(200)).body as NoteJson[]).map((note) => note.id);

  beforeAll(async () => {
    notes = await startNotesHarness();
    publicNote = (await notes.http().post('/notes').set(await bearer('alice')).send({ title: 'Team lunch' }).expect(201)).body;
    confidential = (await notes.http().post('/notes').set(await bearer('carol')).send({ title: 'Reorganisation plan', confidential: true }).expect(201)).body;
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await notes?.close();
  });

  it("should let carol revoke susan's CanReadConfidentialNotes, hide the note from susan's next list, grant it back, and audit both as carol", async () => {
    // The same token for susan throughout: grants live in the store, not in her token.
    expect(await susanSees()).toEqual([publicNote.id, confidential.id]);

    const revoked = await notes.http().delete('/authz/policies/note/subjects/susan/permissions/CanReadConfidentialNotes').set(await admin()).expect(204);
    expect(await susanSees()).toEqual([publicNote.id]);
    await notes.http().get(`/notes/${confidential.id}`).set(await bearer('susan')).expect(404);
    const grants = await notes.http().get('/authz/policies/note/subjects/susan').set(await admin()).expect(200);
    expect(grants.body).toMatchObject({ policy: 'note', subject: 'susan', roles: ['reader'], permissions: [] });

    const granted = await notes.http().put('/authz/policies/note/subjects/susan/permissions/CanReadConfidentialNotes').set(await admin()).expect(204);
    expect(await susanSees()).toEqual([publicNote.id, confidential.id]);
    expect(Number(JSON.parse(granted.headers.etag))).toBeGreaterThan(Number(JSON.parse(revoked.headers.etag)));

    const audit = await notes.http().get('/authz/audit').query({ policy: 'note', subject: 'susan' }).set(await admin()).expect(200);
    expect(audit.body.entries).toEqual([
      expect.objectContaining({ actor: 'carol', action: 'revoke-permission', policy: 'note', target: { subject: 'susan' }, before: { roles: ['reader'], permissions: ['CanReadConfidentialNotes'] }, after: { roles: ['reader'], permissions: [] } }),
      expect.objectContaining({ actor: 'carol', action: 'grant-permission', policy: 'note', target: { subject: 'susan' }, before: { roles: ['reader'], permissions: [] }, after: { roles: ['reader'], permissions: ['CanReadConfidentialNotes'] } }),
    ]);
  });

  it('should show that the store started with the policy files and the first administrator, audited as notes-app and bootstrap', async () => {
    const policies = await notes.http().get('/authz/policies').set(await admin()).expect(200);
    expect(policies.body.policies.map((policy: { name: string }) => policy.name)).toEqual(['authz', 'note']);
    const first = await notes.http().get('/authz/audit').query({ limit: 2 }).set(await admin()).expect(200);
    expect(first.body.entries.map((entry: { actor: string; policy: string; action: string }) => `${entry.actor} ${entry.action} ${entry.policy}`)).toEqual(['notes-app put-policy note', 'bootstrap put-policy authz']);
  });

  it("should keep carol's identity role for the token's lifetime, while its mapping in the store changes on her next request", async () => {
    const carol = await bearer('carol');
    // alice's: carol sees it as a moderator only (her own confidential notes she sees as their owner).
    const alices = (await notes.http().post('/notes').set(await bearer('alice')).send({ title: 'Salaries', confidential: true }).expect(201)).body as NoteJson;
    await notes.http().get(`/notes/${alices.id}`).set(carol).expect(200);
    // notes-admin (in her token) → reader instead of moderator (in the store).
    await notes.http().put('/authz/policies/note/identity-roles/notes-admin').set(await admin()).send({ roles: ['reader'] }).expect(204);
    await notes.http().get(`/notes/${alices.id}`).set(carol).expect(404);
    await notes.http().get(`/notes/${confidential.id}`).set(carol).expect(200);
    await notes.http().put('/authz/policies/note/identity-roles/notes-admin').set(await admin()).send({ roles: ['moderator'] }).expect(204);
    await notes.http().get(`/notes/${alices.id}`).set(carol).expect(200);
  });

  it('should refuse bob, who holds no CanAdminister in policy authz, with 403 naming the permission', async () => {
    const res = await notes.http().get('/authz/policies').set(await bearer('bob', ['authz:admin'])).expect(403);
    expect(res.body).toMatchObject({ policy: 'authz', missingPermissions: ['CanAdminister'] });
    await notes.http().delete('/authz/policies/note/subjects/susan/roles/reader').set(await bearer('bob', ['authz:admin'])).expect(403);
    expect(await susanSees()).toContain(publicNote.id);
  });

  it("should refuse carol's everyday token, which lacks the scope authz:admin, with 403 insufficient_scope", async () => {
    const res = await notes.http().get('/authz/policies').set(await bearer('carol')).expect(403);
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(res.headers['www-authenticate']).toContain('scope="authz:admin"');
  });

  it('should answer 401 without a token', async () => {
    await notes.http().get('/authz/policies').expect(401);
  });
});
