import './support/notes-test-setup';
import { PolicyService, type AuthzIdentity } from 'nestjs-authz';
import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { startNotesHarness, type NotesHarness } from './support/notes-harness';

/** A PolicyService a test controls: subject → permissions, or a failure. What a README user would write. */
class ScriptedPolicyService extends PolicyService {
  grants = new Map<string, Set<string>>();
  failure?: Error;
  readonly questions: string[] = [];

  async hasPermission(policy: string, identity: AuthzIdentity, permission: string): Promise<boolean> {
    this.questions.push(`${policy}:${identity.subject}:${permission}`);
    if (this.failure) throw this.failure;
    return this.grants.get(identity.subject)?.has(permission) ?? false;
  }
}

// The notes app with its PolicyService swapped by overrideProvider(PolicyService): the guard and the business
// rules (confidential filtering; a double that knows no resource grants answers from type-wide grants) follow whatever the service answers, while tokens stay real.
describe('Notes app with overrideProvider(PolicyService)', () => {
  const policies = new ScriptedPolicyService();
  let notes: NotesHarness;
  let confidentialId: string;
  const as = async (user: string) => ({ Authorization: `Bearer ${await notes.tokenFor(user)}` });

  beforeAll(async () => {
    notes = await startNotesHarness((builder) => builder.overrideProvider(PolicyService).useValue(policies));
    policies.grants.set('alice', new Set(['CanRead', 'CanWrite']));
    await notes.http().post('/notes').set(await as('alice')).send({ title: 'Public' }).expect(201);
    confidentialId = (await notes.http().post('/notes').set(await as('alice')).send({ title: 'Secret', confidential: true }).expect(201)).body.id;
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await notes?.close();
  });

  beforeEach(() => {
    policies.failure = undefined;
    policies.grants.delete('bob');
  });

  it('should let bob read once the replacement grants him CanRead, and hide confidential notes from him', async () => {
    policies.grants.set('bob', new Set(['CanRead']));
    const res = await notes.http().get('/notes').set(await as('bob')).expect(200);
    expect(res.body.map((note: { title: string }) => note.title)).toEqual(['Public']);
    await notes.http().get(`/notes/${confidentialId}`).set(await as('bob')).expect(404);
    expect(policies.questions).toContain('note:bob:CanReadConfidentialNotes');
  });

  it('should show bob confidential notes when the replacement grants CanReadConfidentialNotes', async () => {
    policies.grants.set('bob', new Set(['CanRead', 'CanReadConfidentialNotes']));
    const res = await notes.http().get('/notes').set(await as('bob')).expect(200);
    expect(res.body.map((note: { title: string }) => note.title)).toEqual(['Public', 'Secret']);
    await notes.http().get(`/notes/${confidentialId}`).set(await as('bob')).expect(200);
  });

  it('should refuse susan, whom the demo policy would let read, because the replacement grants her nothing', async () => {
    const res = await notes.http().get('/notes').set(await as('susan')).expect(403);
    expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanRead'] });
  });

  it("should let bob change alice's note only once the replacement grants him CanEdit (and, for a confidential note, CanReadConfidentialNotes)", async () => {
    policies.grants.set('bob', new Set(['CanRead', 'CanWrite']));
    const refused = await notes.http().patch(`/notes/${confidentialId}`).set(await as('bob')).send({ title: 'Mine now' }).expect(403);
    expect(refused.body).toMatchObject({ policy: 'note', missingPermissions: ['CanEdit'], resource: confidentialId });
    expect(policies.questions).toContain('note:bob:CanEdit');
    policies.grants.set('bob', new Set(['CanRead', 'CanEdit']));
    const hidden = await notes.http().patch(`/notes/${confidentialId}`).set(await as('bob')).send({ title: 'Mine now' }).expect(404);
    expect(hidden.body.message).toContain('not found');
    policies.grants.set('bob', new Set(['CanRead', 'CanReadConfidentialNotes', 'CanEdit']));
    const changed = await notes.http().patch(`/notes/${confidentialId}`).set(await as('bob')).send({ title: 'Moderated' }).expect(200);
    expect(changed.body).toMatchObject({ title: 'Moderated', ownerId: 'alice' });
  });

  it('should answer 503 with Retry-After, never allow, when the PolicyService fails', async () => {
    policies.failure = new Error('policy database unreachable');
    const res = await notes.http().get('/notes').set(await as('alice')).expect(503);
    expect(res.headers['retry-after']).toBeDefined();
  });
});
