/** A note as the API returns it. */
export interface Note {
  readonly id: string;
  readonly title: string;
  readonly body: string;
  readonly confidential: boolean;
  /** Subject (`sub`) of the identity that created it. */
  readonly ownerId: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What a caller may set on a note. */
export type NoteContent = Pick<Note, 'title' | 'body' | 'confidential'>;
