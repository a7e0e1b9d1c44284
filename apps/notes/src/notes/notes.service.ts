import { BadRequestException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { PolicyService, type AuthzIdentity } from 'nestjs-authz';
import type { Note, NoteContent } from './note';
import { NOTE_POLICY, NotePermission } from './note.policy';
import { NotesRepository } from './notes.repository';

/**
 * The business rules that need more than the guard's yes/no: confidential notes are visible only to holders
 * of `CanReadConfidentialNotes` (and invisible, 404, to everyone else), and only the owner or a holder of
 * `CanModerate` may change a note. The guard has already checked the route's scope and permission.
 */
@Injectable()
export class NotesService {
  constructor(
    private readonly notes: NotesRepository,
    private readonly policies: PolicyService,
  ) {}

  async list(identity: AuthzIdentity): Promise<Note[]> {
    const includeConfidential = await this.policies.hasPermission(NOTE_POLICY, identity, NotePermission.ReadConfidential);
    return this.notes.list({ includeConfidential });
  }

  async get(identity: AuthzIdentity, id: string): Promise<Note> {
    const held = await this.held(identity);
    return this.visibleNote(id, held);
  }

  create(identity: AuthzIdentity, content: Partial<NoteContent> & Pick<NoteContent, 'title'>): Promise<Note> {
    return this.notes.create({ title: content.title, body: content.body ?? '', confidential: content.confidential ?? false, ownerId: identity.subject });
  }

  async update(identity: AuthzIdentity, id: string, changes: Partial<NoteContent>): Promise<Note> {
    if (changes.title === undefined && changes.body === undefined && changes.confidential === undefined) {
      throw new BadRequestException('Nothing to change: give at least one of title, body, confidential');
    }
    const held = await this.held(identity);
    const note = await this.visibleNote(id, held);
    if (note.ownerId !== identity.subject && !held.has(NotePermission.Moderate)) {
      throw new ForbiddenException({
        statusCode: 403,
        error: 'Forbidden',
        message: `Only the note's owner or a holder of ${NotePermission.Moderate} may change it`,
        policy: NOTE_POLICY,
        missingPermissions: [NotePermission.Moderate],
      });
    }
    return (await this.notes.update(id, changes)) ?? this.notFound(id);
  }

  async delete(identity: AuthzIdentity, id: string): Promise<void> {
    await this.visibleNote(id, await this.held(identity));
    if (!(await this.notes.delete(id))) this.notFound(id);
  }

  /** The permissions this service decides on, asked in one call. */
  private held(identity: AuthzIdentity): Promise<ReadonlySet<string>> {
    return this.policies.permissionsOf(NOTE_POLICY, identity, [NotePermission.ReadConfidential, NotePermission.Moderate]);
  }

  /** A confidential note the caller may not read is answered exactly like a missing one, so its existence does not leak. */
  private async visibleNote(id: string, held: ReadonlySet<string>): Promise<Note> {
    const note = await this.notes.findById(id);
    if (!note || (note.confidential && !held.has(NotePermission.ReadConfidential))) this.notFound(id);
    return note;
  }

  private notFound(id: string): never {
    throw new NotFoundException(`Note ${id} not found`);
  }
}
