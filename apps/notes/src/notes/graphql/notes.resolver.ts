import { UseFilters, ValidationPipe, type ExecutionContext } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentIdentity, Permissions, Policy, Resource, Scopes, type AuthzIdentity } from 'nestjs-authz';
import type { Note } from '../note';
import { NOTE_POLICY, NotePermission } from '../note.policy';
import { NotesService } from '../notes.service';
import { NoteEvents } from '../note-events';
import { NotesGraphqlErrorFilter } from './notes-graphql-errors';
import { CreateNoteInput, NoteModel } from './note.model';

/** `@Resource()` for GraphQL: the note id is the resolver's `id` argument (`context.getArgs()` is `[root, args, context, info]`). */
const noteIdArgument = (_request: unknown, context: ExecutionContext): string | undefined => {
  const id = (context.getArgs()[1] as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The notes over GraphQL, with the scopes, permissions and record rules of the REST routes (NotesController): the
 * global AuthzGuard checks each resolver; NotesService hides confidential notes as it does for REST.
 */
@Policy(NOTE_POLICY)
@Resolver(() => NoteModel)
@UseFilters(NotesGraphqlErrorFilter)
export class NotesResolver {
  constructor(
    private readonly service: NotesService,
    private readonly events: NoteEvents,
  ) {}

  /** `GET /notes`. */
  @Query(() => [NoteModel])
  @Scopes('notes:read')
  @Permissions(NotePermission.Read)
  notes(@CurrentIdentity() identity: AuthzIdentity): Promise<Note[]> {
    return this.service.list(identity);
  }

  /** `GET /notes/:id`; a note the caller may not see is `null` with a NOT_FOUND error, as the 404 of REST. */
  @Query(() => NoteModel, { nullable: true })
  @Scopes('notes:read')
  @Permissions(NotePermission.Read)
  @Resource(noteIdArgument)
  note(@CurrentIdentity() identity: AuthzIdentity, @Args('id', { type: () => ID }) id: string): Promise<Note> {
    return this.service.get(identity, checkedId(id));
  }

  /** `POST /notes`; NotesService publishes the note to `noteCreated` subscribers who may see it. */
  @Mutation(() => NoteModel)
  @Scopes('notes:write')
  @Permissions(NotePermission.Write)
  createNote(
    @CurrentIdentity() identity: AuthzIdentity,
    @Args('input', new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, expectedType: CreateNoteInput })) input: CreateNoteInput,
  ): Promise<Note> {
    return this.service.create(identity, input);
  }

  /** `DELETE /notes/:id`. */
  @Mutation(() => Boolean)
  @Scopes('notes:write')
  @Permissions(NotePermission.Delete)
  @Resource(noteIdArgument)
  async deleteNote(@CurrentIdentity() identity: AuthzIdentity, @Args('id', { type: () => ID }) id: string): Promise<boolean> {
    await this.service.delete(identity, checkedId(id));
    return true;
  }

  /** Notes created (over GraphQL or REST), each one only to subscribers that may read it (`note(id:)`'s rules). */
  @Subscription(() => NoteModel)
  @Scopes('notes:read')
  @Permissions(NotePermission.Read)
  noteCreated(@CurrentIdentity() identity: AuthzIdentity): AsyncIterableIterator<{ noteCreated: Note }> {
    return this.events.subscribe(async (note) => (await this.service.get(identity, note.id)) !== undefined);
  }
}

/** Ids are UUIDs (REST: ParseUUIDPipe); anything else is BAD_USER_INPUT before the database sees it. */
function checkedId(id: string): string {
  if (!UUID.test(id)) throw NotesGraphqlErrorFilter.badInput('Validation failed (uuid is expected)');
  return id;
}
