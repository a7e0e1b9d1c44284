import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { NoteBody, NoteConfidential, NoteTitle } from '../dto/note-fields';
import type { Note } from '../note';

/** A note over GraphQL: the fields of the REST answer. */
@ObjectType('Note')
export class NoteModel implements Note {
  @Field(() => ID) id!: string;
  @Field() title!: string;
  @Field() body!: string;
  @Field() confidential!: boolean;
  /** Subject (`sub`) of the identity that created it. */
  @Field() ownerId!: string;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

/** `createNote(input:)`: the body of `POST /notes`, with the same rules. */
@InputType()
export class CreateNoteInput {
  @Field()
  @NoteTitle()
  title!: string;

  @Field({ nullable: true })
  @NoteBody()
  body?: string;

  @Field({ nullable: true })
  @NoteConfidential()
  confidential?: boolean;
}
