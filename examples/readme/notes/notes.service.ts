import { Injectable } from '@nestjs/common';

// The app's own notes service, as small as README "2. Decorate controllers" and "5. Permissions on single records" need it.

export interface Note {
  id: string;
  title: string;
  confidential: boolean;
}

@Injectable()
export class NotesService {
  private readonly notes: Note[] = [
    { id: '1', title: 'Welcome', confidential: false },
    { id: '2', title: 'Salaries', confidential: true },
  ];

  async list(options: { includeConfidential: boolean }): Promise<Note[]> {
    return this.notes.filter((note) => options.includeConfidential || !note.confidential);
  }

  async create(title: string): Promise<Note> {
    const note = { id: String(this.notes.length + 1), title, confidential: false };
    this.notes.push(note);
    return note;
  }

  async update(id: string, changes: { title?: string }): Promise<Note | undefined> {
    const note = this.notes.find((held) => held.id === id);
    if (note && changes.title !== undefined) note.title = changes.title;
    return note;
  }
}
