import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { CurrentIdentity, Permissions, Policy, PolicyService, PolicyStore, Resource, Scopes, type AuthzIdentity } from 'nestjs-authz';
import { NotesService } from '../notes/notes.service';

@Policy('note')
@Scopes('notes:read')
@Controller('records')
export class NoteRecordsController {
  constructor(
    private readonly notes: NotesService,
    private readonly policies: PolicyService,
    private readonly store: PolicyStore,
  ) {}

  // Asked about this note: a role held on it (owner) counts, and so does a type-wide grant (moderator).
  @Permissions('CanEdit')
  @Resource('id')
  @Patch(':id')
  update(@Param('id') id: string, @Body() changes: { title?: string }) {
    return this.notes.update(id, changes);
  }

  // The creator owns the new note: one audited edit, seen by the next request on every instance.
  @Permissions('CanWrite')
  @Post()
  async create(@CurrentIdentity('subject') subject: AuthzIdentity['subject'], @Body() body: { title: string }) {
    const note = await this.notes.create(body.title);
    await this.store.edit([{ kind: 'grant-resource-role', policy: 'note', resource: note.id, subject, role: 'owner' }], { actor: subject });
    return note;
  }

  // The batch form: which confidential notes may the caller read? One store query for all of them.
  @Permissions('CanRead')
  @Get()
  async list(@CurrentIdentity() identity: AuthzIdentity) {
    const notes = await this.notes.list({ includeConfidential: true });
    const confidential = notes.filter((note) => note.confidential).map((note) => note.id);
    const readable = await this.policies.allowedResources('note', identity, 'CanReadConfidentialNotes', confidential);
    return notes.filter((note) => !note.confidential || readable.has(note.id));
  }
}
