import { IsBoolean, IsString, Length, MaxLength } from 'class-validator';
import { IfPresent } from './if-present';
import { BODY_MAX, TITLE_MAX } from './create-note.dto';

/** Body of `PATCH /notes/:id`: the fields to change, at least one. */
export class UpdateNoteDto {
  @IfPresent()
  @IsString()
  @Length(1, TITLE_MAX)
  title?: string;

  @IfPresent()
  @IsString()
  @MaxLength(BODY_MAX)
  body?: string;

  @IfPresent()
  @IsBoolean()
  confidential?: boolean;
}
