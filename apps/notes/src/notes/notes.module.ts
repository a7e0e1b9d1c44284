import { Module } from '@nestjs/common';
import { NoteEvents } from './note-events';
import { NotesController } from './notes.controller';
import { NotesRepository } from './notes.repository';
import { NotesService } from './notes.service';

/**
 * The notes feature. Needs the SQL database (DatabaseModule), and the PolicyService and PolicyStore (AuthzModule,
 * global). Exports NotesService and NoteEvents (where NotesService publishes the notes it creates) for other ways
 * in, such as NotesGraphqlModule.
 */
@Module({
  controllers: [NotesController],
  providers: [NotesService, NotesRepository, NoteEvents],
  exports: [NotesService, NoteEvents],
})
export class NotesModule {}
