import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SQL_DATABASE, type SqlDatabase } from '../database/sql-database';
import type { Note, NoteContent } from './note';

const COLUMNS = 'id, title, body, confidential, owner_id AS "ownerId", created_at AS "createdAt", updated_at AS "updatedAt"';

/**
 * Notes in SQL. Knows nothing of identities or permissions: NotesService decides what a caller may see and do.
 *
 * @example
 * const note = await notes.create({ title: 'Hello', body: '', confidential: false, ownerId: 'alice' });
 */
@Injectable()
export class NotesRepository {
  constructor(@Inject(SQL_DATABASE) private readonly db: SqlDatabase) {}

  /** In creation order; confidential notes only when asked for. */
  list(options: { includeConfidential: boolean }): Promise<Note[]> {
    return this.db.query<Note>(`SELECT ${COLUMNS} FROM notes WHERE confidential = false OR $1 ORDER BY position`, [options.includeConfidential]);
  }

  /** `id` must be a UUID (the controller checks it): PostgreSQL refuses anything else as input for a uuid column. */
  async findById(id: string): Promise<Note | undefined> {
    const [note] = await this.db.query<Note>(`SELECT ${COLUMNS} FROM notes WHERE id = $1`, [id]);
    return note;
  }

  async create(content: NoteContent & { ownerId: string }): Promise<Note> {
    const [note] = await this.db.query<Note>(
      `INSERT INTO notes (id, title, body, confidential, owner_id) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [randomUUID(), content.title, content.body, content.confidential, content.ownerId],
    );
    return note;
  }

  /** Changes the given fields; `undefined` when the note does not exist (any more). */
  async update(id: string, changes: Partial<NoteContent>): Promise<Note | undefined> {
    const [note] = await this.db.query<Note>(
      `UPDATE notes
          SET title = COALESCE($2, title), body = COALESCE($3, body), confidential = COALESCE($4, confidential), updated_at = now()
        WHERE id = $1
        RETURNING ${COLUMNS}`,
      [id, changes.title ?? null, changes.body ?? null, changes.confidential ?? null],
    );
    return note;
  }

  /** Whether a note was deleted. */
  async delete(id: string): Promise<boolean> {
    return (await this.db.query(`DELETE FROM notes WHERE id = $1 RETURNING id`, [id])).length === 1;
  }
}
