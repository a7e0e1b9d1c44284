import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { CurrentIdentity, Permissions, Policy, Scopes, type AuthzIdentity } from 'nestjs-authz';
import { CreateNoteDto } from './dto/create-note.dto';
import { UpdateNoteDto } from './dto/update-note.dto';
import type { Note } from './note';
import { NOTE_POLICY } from './note.policy';
import { NotesService } from './notes.service';

// Ids are UUIDs; anything else is a 400 before the database sees it.
const NoteId = () => Param('id', new ParseUUIDPipe());

/**
 * The notes API. Scopes say what the user let the client do; permissions say what the `note` policy lets the
 * identity do. Both are checked by the global AuthzGuard before a handler runs.
 */
@Policy(NOTE_POLICY)
@Controller('notes')
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Get()
  @Scopes('notes:read')
  @Permissions('CanRead')
  list(@CurrentIdentity() identity: AuthzIdentity): Promise<Note[]> {
    return this.notes.list(identity);
  }

  @Get(':id')
  @Scopes('notes:read')
  @Permissions('CanRead')
  get(@CurrentIdentity() identity: AuthzIdentity, @NoteId() id: string): Promise<Note> {
    return this.notes.get(identity, id);
  }

  @Post()
  @Scopes('notes:write')
  @Permissions('CanWrite')
  create(@CurrentIdentity() identity: AuthzIdentity, @Body() note: CreateNoteDto): Promise<Note> {
    return this.notes.create(identity, note);
  }

  @Patch(':id')
  @Scopes('notes:write')
  @Permissions('CanWrite')
  update(@CurrentIdentity() identity: AuthzIdentity, @NoteId() id: string, @Body() changes: UpdateNoteDto): Promise<Note> {
    return this.notes.update(identity, id, changes);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @Scopes('notes:write')
  @Permissions('CanDelete')
  async delete(@CurrentIdentity() identity: AuthzIdentity, @NoteId() id: string): Promise<void> {
    await this.notes.delete(identity, id);
  }
}
