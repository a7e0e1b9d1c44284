import { NoteBody, NoteConfidential, NoteTitle } from './note-fields';
import { IfPresent } from './text-rules';

/** Body of `PATCH /notes/:id`: the fields to change, at least one. */
export class UpdateNoteDto {
  @IfPresent()
  @NoteTitle()
  title?: string;

  @NoteBody()
  body?: string;

  @NoteConfidential()
  confidential?: boolean;
}
