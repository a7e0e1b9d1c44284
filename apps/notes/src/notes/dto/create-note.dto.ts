import { IsBoolean, IsString, Length, MaxLength } from 'class-validator';
import { IfPresent, NoNulCharacter } from './text-rules';

export const TITLE_MAX = 200;
export const BODY_MAX = 10_000;

/** Body of `POST /notes`. Unknown fields are refused (400), not ignored. */
export class CreateNoteDto {
  @IsString()
  @Length(1, TITLE_MAX)
  @NoNulCharacter()
  title!: string;

  @IfPresent()
  @IsString()
  @MaxLength(BODY_MAX)
  @NoNulCharacter()
  body?: string;

  @IfPresent()
  @IsBoolean()
  confidential?: boolean;
}
