import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Note } from './note';

/**
 * Notes created, in process: NotesService publishes each one it creates (over REST or GraphQL); the `noteCreated`
 * subscription gives each subscriber an async iterator. The filter decides per subscriber which notes it may see (the
 * record rules of NotesService); a failing filter drops the event for that subscriber.
 */
@Injectable()
export class NoteEvents implements OnModuleDestroy {
  private readonly listeners = new Set<(note: Note) => void>();
  private readonly stops = new Set<() => void>();

  publish(note: Note): void {
    for (const listener of this.listeners) listener(note);
  }

  subscribe(visible: (note: Note) => Promise<boolean>): AsyncIterableIterator<{ noteCreated: Note }> {
    const queue: Note[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const listener = (note: Note) => {
      queue.push(note);
      wake?.();
    };
    const stop = () => {
      done = true;
      this.listeners.delete(listener);
      this.stops.delete(stop);
      wake?.();
    };
    this.listeners.add(listener);
    this.stops.add(stop);
    const iterator: AsyncIterableIterator<{ noteCreated: Note }> = {
      async next() {
        for (;;) {
          while (queue.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
          if (done) return { value: undefined, done: true };
          const note = queue.shift()!;
          if (await visible(note).catch(() => false)) return { value: { noteCreated: note }, done: false };
        }
      },
      async return() {
        stop();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  onModuleDestroy(): void {
    for (const stop of [...this.stops]) stop();
  }
}
