/** A blob's name: the SHA-256 of its bytes, in hex. Whoever holds bytes and a name can check one against the other. */
import { createHash } from "node:crypto";

export function blobHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
