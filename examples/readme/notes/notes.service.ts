import { Injectable } from '@nestjs/common';

// The app's own notes service, as small as README "2. Decorate controllers" needs it.

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
}
