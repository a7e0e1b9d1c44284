import { applyDecorators } from '@nestjs/common';
import { IsBoolean, IsString, Length, MaxLength } from 'class-validator';
import { IfPresent, NoNulCharacter } from './text-rules';

export const TITLE_MAX = 200;
export const BODY_MAX = 10_000;

/** The rules of a note's fields, shared by the create and update bodies (which differ only in what is required). */
export const NoteTitle = (): PropertyDecorator => applyDecorators(IsString(), Length(1, TITLE_MAX), NoNulCharacter());
export const NoteBody = (): PropertyDecorator => applyDecorators(IfPresent(), IsString(), MaxLength(BODY_MAX), NoNulCharacter());
export const NoteConfidential = (): PropertyDecorator => applyDecorators(IfPresent(), IsBoolean());
