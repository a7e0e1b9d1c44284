import { IsBoolean, IsString, Length, MaxLength } from 'class-validator';
import { IfPresent, NoNulCharacter } from './text-rules';
import { BODY_MAX, TITLE_MAX } from './create-note.dto';

/** Body of `PATCH /notes/:id`: the fields to change, at least one. */
export class UpdateNoteDto {
  @IfPresent()
  @IsString()
  @Length(1, TITLE_MAX)
  @NoNulCharacter()
  title?: string;

  @IfPresent()
  @IsString()
  @MaxLength(BODY_MAX)
  @NoNulCharacter()
  body?: string;

  @IfPresent()
  @IsBoolean()
  confidential?: boolean;
}
