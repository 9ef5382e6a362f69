// A StatusStore of one object for the unit tests of the backend's status
// rewrites (store/status-rewrite.ts and its users): it answers the object,
// records each status written, and can lose the precondition a given number
// of times first.
import type { StoredObject, StoredStatus } from '../../../api/src/types.ts';
import { WriteConflict, type StatusStore } from '../store/status-store.ts';

export class OneObjectStatusStore implements StatusStore {
  synced = true;
  readonly writes: StoredStatus[] = [];
  /** Writes to refuse with a lost precondition before one succeeds. */
  conflicts = 0;
  current: StoredObject | undefined;

  constructor(current: StoredObject | undefined) {
    this.current = current;
  }

  cached(): StoredObject | undefined {
    return this.current;
  }

  async fetch(): Promise<StoredObject | undefined> {
    return this.current;
  }

  async writeStatus(o: StoredObject, status: StoredStatus): Promise<StoredObject> {
    if (this.conflicts-- > 0) throw new WriteConflict('changed');
    this.writes.push(status);
    return (this.current = { ...o, status });
  }

  async setFinalizers(o: StoredObject): Promise<StoredObject> {
    return o;
  }
}
