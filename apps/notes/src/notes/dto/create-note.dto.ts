import { NoteBody, NoteConfidential, NoteTitle } from './note-fields';

/** Body of `POST /notes`. Unknown fields are refused (400), not ignored. */
export class CreateNoteDto {
  @NoteTitle()
  title!: string;

  @NoteBody()
  body?: string;

  @NoteConfidential()
  confidential?: boolean;
}
