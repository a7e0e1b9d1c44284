import { IsBoolean, IsString, Length, MaxLength } from 'class-validator';
import { IfPresent } from './if-present';

export const TITLE_MAX = 200;
export const BODY_MAX = 10_000;

/** Body of `POST /notes`. Unknown fields are refused (400), not ignored. */
export class CreateNoteDto {
  @IsString()
  @Length(1, TITLE_MAX)
  title!: string;

  @IfPresent()
  @IsString()
  @MaxLength(BODY_MAX)
  body?: string;

  @IfPresent()
  @IsBoolean()
  confidential?: boolean;
}
