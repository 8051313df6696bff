/** The datastore the client reads: FLOWRUN_DATASTORE / FLOWRUN_DATASTORE_ROOT, else `.flowrun/` here. */
import { ContentStore } from "../../runtime/datastore/content-store.js";
import { FileStore } from "../../runtime/datastore/file-store.js";
import { openBackend } from "../../runtime/datastore/open-backend.js";
import type { DatastoreConfig } from "../core/datastore-config.js";
import { MetadataStore } from "../../runtime/metadata/metadata-store.js";
import { datastoreConfig } from "../core/datastore-config.js";

export interface ClientDatastore {
  config: DatastoreConfig;
  metadata: MetadataStore;
  content: ContentStore;
  files: FileStore;
}

const open = new Map<string, Promise<ClientDatastore>>();

export function clientDatastore(config: DatastoreConfig = datastoreConfig()): Promise<ClientDatastore> {
  const key = `${config.kind}:${config.root}`;
  let store = open.get(key);
  if (!store) {
    store = openBackend(config).then((backend) => ({ config, metadata: new MetadataStore(backend), content: new ContentStore(backend), files: new FileStore(backend) }));
    store.catch(() => open.delete(key));
    open.set(key, store);
  }
  return store;
}
