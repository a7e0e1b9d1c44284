import { BadRequestException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { PolicyService, PolicyStore, type AuthzIdentity, type PolicyEdit } from 'nestjs-authz';
import type { Note, NoteContent } from './note';
import { NoteEvents } from './note-events';
import { NOTE_POLICY, NotePermission, OWNER_ROLE, SHARE_KINDS, SHARE_ROLES, type ShareKind } from './note.policy';
import { NotesRepository } from './notes.repository';
import { StoreUnavailableException, storeWriteFailed } from './store-unavailable';

/** One share of a note, as `GET /notes/:id/shares` lists it. */
export interface NoteShare {
  readonly subject: string;
  readonly role: ShareKind;
}

/**
 * The business rules that need more than the guard's yes/no. The policy decides who may do what with a note, the
 * service compares no owner ids: the guard has already checked the route's scope and its permission on the note
 * (`@Resource('id')`: `CanRead`, `CanEdit`, `CanDelete`, `CanShare`), from type-wide grants (moderator) or from the
 * roles the caller holds on that note (`owner`, which the creator gets here, `shared-reader`, `shared-editor`).
 *
 * What is left here: confidential notes are visible only to holders of `CanReadConfidentialNotes`, type-wide or on
 * the note, and invisible (404, exactly like a missing note) to everyone else; a note's resource grants are written
 * with the note (owner on create, dropped on delete) and through the share routes.
 */
@Injectable()
export class NotesService {
  private readonly logger = new Logger(NotesService.name);

  constructor(
    private readonly notes: NotesRepository,
    private readonly policies: PolicyService,
    private readonly store: PolicyStore,
    private readonly events: NoteEvents,
  ) {}

  /** Non-confidential notes, and the confidential ones the caller may read: all of them, or those shared with or owned by the caller. */
  async list(identity: AuthzIdentity): Promise<Note[]> {
    const all = await this.notes.list({ includeConfidential: true });
    const confidentialIds = all.filter((note) => note.confidential).map((note) => note.id);
    if (confidentialIds.length === 0) return all;
    // One question for every confidential note: type-wide holders get them all, others those they hold a role on.
    const readable = await this.decide(() => this.policies.allowedResources(NOTE_POLICY, identity, NotePermission.ReadConfidential, confidentialIds));
    return all.filter((note) => !note.confidential || readable.has(note.id));
  }

  async get(identity: AuthzIdentity, id: string): Promise<Note> {
    return this.visibleNote(identity, id);
  }

  /**
   * Creates the note and makes its creator the `owner` (a resource role on the note's id). Two writes to two
   * stores: if the grant fails, the note is deleted again and the caller gets a 503, so no note exists that
   * nobody owns. Once both are written, the note is published to NoteEvents (`noteCreated` subscribers who may
   * read it get it), whichever way it was created.
   */
  async create(identity: AuthzIdentity, content: Partial<NoteContent> & Pick<NoteContent, 'title'>): Promise<Note> {
    const note = await this.notes.create({ title: content.title, body: content.body ?? '', confidential: content.confidential ?? false, ownerId: identity.subject });
    try {
      await this.store.edit([{ kind: 'grant-resource-role', policy: NOTE_POLICY, resource: note.id, subject: identity.subject, role: OWNER_ROLE }], { actor: identity.subject });
    } catch (error) {
      await this.notes.delete(note.id).catch((undo: unknown) => this.logger.error(`note ${note.id} has no owner: undoing its creation failed too: ${(undo as Error)?.message ?? String(undo)}`));
      throw storeWriteFailed(error, 'make you the owner of the new note, so it was not created');
    }
    this.events.publish(note);
    return note;
  }

  /** The guard checked `CanEdit` on the note. */
  async update(identity: AuthzIdentity, id: string, changes: Partial<NoteContent>): Promise<Note> {
    if (changes.title === undefined && changes.body === undefined && changes.confidential === undefined) {
      throw new BadRequestException('Nothing to change: give at least one of title, body, confidential');
    }
    await this.visibleNote(identity, id);
    return (await this.notes.update(id, changes)) ?? this.notFound(id);
  }

  /**
   * The guard checked `CanDelete` on the note. The note goes first, then its grants (`delete-resource`): a failure
   * in between leaves grants on a note that no longer exists, which grant nothing (there is no note to read), never
   * a note that lost its grants. The caller then gets a 503 and retries; a retry finds the note missing, and
   * because the grants (e.g. the caller's `owner`) are still there, the guard lets it through again: it runs
   * `delete-resource` once more before answering 404, so retries converge on "note and grants gone".
   */
  async delete(identity: AuthzIdentity, id: string): Promise<void> {
    const note = await this.notes.findById(id);
    if (note?.confidential && !(await this.mayReadConfidential(identity, id))) this.notFound(id);
    const deleted = note !== undefined && (await this.notes.delete(id));
    try {
      await this.store.edit([{ kind: 'delete-resource', policy: NOTE_POLICY, resource: id }], { actor: identity.subject });
    } catch (error) {
      throw storeWriteFailed(error, deleted ? "remove the deleted note's grants; the note is deleted, delete it again to finish" : "remove the grants of the deleted note; delete it again to finish");
    }
    if (!deleted) this.notFound(id);
  }

  /** Who the note is shared with (not its owner), by subject. The guard checked `CanShare` on the note. */
  async shares(identity: AuthzIdentity, id: string): Promise<NoteShare[]> {
    await this.visibleNote(identity, id);
    const grants = await this.store.resourceGrants(NOTE_POLICY, id).catch((error: unknown) => {
      throw storeWriteFailed(error, "read the note's shares");
    });
    if (!grants) throw new StoreUnavailableException(`Could not read the note's shares: policy '${NOTE_POLICY}' does not exist in the policy store`);
    const shares: NoteShare[] = [];
    for (const [subject, roles] of Object.entries(grants.subjects)) {
      // A subject holding both (given through the admin API) is listed with the one that allows more.
      const kind = [...SHARE_KINDS].reverse().find((candidate) => roles.includes(SHARE_ROLES[candidate]));
      if (kind) shares.push({ subject, role: kind });
    }
    return shares;
  }

  /**
   * Shares the note with `subject` as reader or editor; a share of the other kind is replaced in the same
   * transaction. The guard checked `CanShare` on the note.
   */
  async share(identity: AuthzIdentity, id: string, subject: string, kind: ShareKind): Promise<void> {
    await this.visibleNote(identity, id);
    const edits: PolicyEdit[] = SHARE_KINDS.map((candidate) => ({
      kind: candidate === kind ? 'grant-resource-role' : 'revoke-resource-role',
      policy: NOTE_POLICY,
      resource: id,
      subject,
      role: SHARE_ROLES[candidate],
    }));
    await this.edit(edits, identity, 'share the note');
    // The note may have been deleted between the look-up and the grant, after its grants were removed: remove
    // them again rather than leave a grant on a note that is gone (it would come back with a note of that id).
    if (!(await this.notes.findById(id))) {
      await this.edit([{ kind: 'delete-resource', policy: NOTE_POLICY, resource: id }], identity, 'remove the grants of the deleted note');
      this.notFound(id);
    }
  }

  /** Ends whatever share `subject` has on the note; nothing to end is fine (204 again). The guard checked `CanShare` on the note. */
  async unshare(identity: AuthzIdentity, id: string, subject: string): Promise<void> {
    await this.visibleNote(identity, id);
    const edits: PolicyEdit[] = SHARE_KINDS.map((kind) => ({ kind: 'revoke-resource-role', policy: NOTE_POLICY, resource: id, subject, role: SHARE_ROLES[kind] }));
    await this.edit(edits, identity, 'end the share');
  }

  private async edit(edits: readonly PolicyEdit[], identity: AuthzIdentity, what: string): Promise<void> {
    try {
      await this.store.edit(edits, { actor: identity.subject });
    } catch (error) {
      throw storeWriteFailed(error, what);
    }
  }

  /** A confidential note the caller may not read on that note is answered exactly like a missing one, so its existence does not leak. */
  private async visibleNote(identity: AuthzIdentity, id: string): Promise<Note> {
    const note = await this.notes.findById(id);
    if (!note || (note.confidential && !(await this.mayReadConfidential(identity, id)))) this.notFound(id);
    return note;
  }

  private mayReadConfidential(identity: AuthzIdentity, id: string): Promise<boolean> {
    return this.decide(() => this.policies.hasPermission(NOTE_POLICY, identity, NotePermission.ReadConfidential, { resource: id }));
  }

  /** A decision the PolicyService could not give is a 503, as in the guard: never a 500, never an allow. */
  private async decide<T>(ask: () => Promise<T>): Promise<T> {
    try {
      return await ask();
    } catch {
      throw new StoreUnavailableException(`Policy '${NOTE_POLICY}' could not be evaluated; try again later`);
    }
  }

  private notFound(id: string): never {
    throw new NotFoundException(`Note ${id} not found`);
  }
}
