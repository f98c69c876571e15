import { emptyDocument, type StoreDocument } from './document.js';
import { DocumentStore, type StoreOptions } from './document-store.js';

/**
 * A Store that keeps its document in memory: for tests, the simulator and
 * `--dry-run` (fakes over mocks). Same logic as the lowdb store
 * (DocumentStore); only persistence differs — none, so a process exit loses it.
 */
export class MemoryStore extends DocumentStore {
  constructor(options: StoreOptions = {}) {
    const document = emptyDocument();
    super(
      document,
      {
        // Nothing to write, so a save never fails and reload only hands back the live document.
        save: async () => undefined,
        reload: async (): Promise<StoreDocument> => document,
      },
      'memory',
      options,
    );
  }
}
