/** A blob's name: the SHA-256 of its bytes, in hex. Whoever holds bytes and a name can check one against the other. */
import * as crypto from "node:crypto";

// `crypto.hash` hashes in one call, without a Hash object per blob; Node before 20.12 lacks it.
const oneShot: typeof crypto.hash | undefined = crypto.hash;

export function blobHash(bytes: Uint8Array): string {
  return oneShot ? oneShot("sha256", bytes, "hex") : crypto.createHash("sha256").update(bytes).digest("hex");
}
