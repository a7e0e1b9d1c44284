import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Patch, Post, Put, UseFilters } from '@nestjs/common';
import { CurrentIdentity, Permissions, Policy, Resource, Scopes, type AuthzIdentity } from 'nestjs-authz';
import { CreateNoteDto } from './dto/create-note.dto';
import { PutShareDto } from './dto/put-share.dto';
import { SubjectParam } from './dto/subject-param';
import { UpdateNoteDto } from './dto/update-note.dto';
import type { Note } from './note';
import { NOTE_POLICY, NotePermission } from './note.policy';
import { NotesService, type NoteShare } from './notes.service';
import { StoreUnavailableFilter } from './store-unavailable';

// Ids are UUIDs; anything else is a 400 before the database sees it (after the guard: it decides first).
const NoteId = () => Param('id', new ParseUUIDPipe());

/**
 * The notes API. Scopes say what the user let the client do; permissions say what the `note` policy lets the
 * identity do. Both are checked by the global AuthzGuard before a handler runs: with `@Resource('id')`, the
 * permission is asked about the note of the route, so type-wide grants (moderator) and the caller's roles on that
 * note (owner, shared-reader, shared-editor) both count.
 */
@Policy(NOTE_POLICY)
@Controller('notes')
@UseFilters(StoreUnavailableFilter)
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Get()
  @Scopes('notes:read')
  @Permissions(NotePermission.Read)
  list(@CurrentIdentity() identity: AuthzIdentity): Promise<Note[]> {
    return this.notes.list(identity);
  }

  @Get(':id')
  @Scopes('notes:read')
  @Permissions(NotePermission.Read)
  @Resource('id')
  get(@CurrentIdentity() identity: AuthzIdentity, @NoteId() id: string): Promise<Note> {
    return this.notes.get(identity, id);
  }

  @Post()
  @Scopes('notes:write')
  @Permissions(NotePermission.Write)
  create(@CurrentIdentity() identity: AuthzIdentity, @Body() note: CreateNoteDto): Promise<Note> {
    return this.notes.create(identity, note);
  }

  @Patch(':id')
  @Scopes('notes:write')
  @Permissions(NotePermission.Edit)
  @Resource('id')
  update(@CurrentIdentity() identity: AuthzIdentity, @NoteId() id: string, @Body() changes: UpdateNoteDto): Promise<Note> {
    return this.notes.update(identity, id, changes);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @Scopes('notes:write')
  @Permissions(NotePermission.Delete)
  @Resource('id')
  async delete(@CurrentIdentity() identity: AuthzIdentity, @NoteId() id: string): Promise<void> {
    await this.notes.delete(identity, id);
  }

  @Get(':id/shares')
  @Scopes('notes:read')
  @Permissions(NotePermission.Share)
  @Resource('id')
  shares(@CurrentIdentity() identity: AuthzIdentity, @NoteId() id: string): Promise<NoteShare[]> {
    return this.notes.shares(identity, id);
  }

  @Put(':id/shares/:subject')
  @HttpCode(HttpStatus.NO_CONTENT)
  @Scopes('notes:write')
  @Permissions(NotePermission.Share)
  @Resource('id')
  async share(@CurrentIdentity() identity: AuthzIdentity, @NoteId() id: string, @SubjectParam() subject: string, @Body() share: PutShareDto): Promise<void> {
    await this.notes.share(identity, id, subject, share.role);
  }

  @Delete(':id/shares/:subject')
  @HttpCode(HttpStatus.NO_CONTENT)
  @Scopes('notes:write')
  @Permissions(NotePermission.Share)
  @Resource('id')
  async unshare(@CurrentIdentity() identity: AuthzIdentity, @NoteId() id: string, @SubjectParam() subject: string): Promise<void> {
    await this.notes.unshare(identity, id, subject);
  }
}
