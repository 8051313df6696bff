/**
 * User tags as stored: one record per tag, whose key carries the tag itself, so adding or
 * removing a tag writes or deletes that record alone (no read-modify-write of the run
 * record to lose a concurrent change), and a run's tags are read by listing keys only.
 */
import { TagError } from "../../src/core/errors.js";

/** Tags flowrun sets itself (SPEC section 4); nobody adds or removes them by hand. */
export const SYSTEM_TAG_PREFIXES = ["user:", "project:", "project_branch:", "runtime:"] as const;

/**
 * Longest stored form of a tag. Filesystem-backed S3 servers (MinIO, s3rver) keep a key's
 * last segment as a file name, at most 255 bytes; LMDB keys stop at 1,978 bytes.
 */
const MAX_ENCODED_TAG = 240;

/**
 * The tag as one key segment: percent-encoded UTF-8 except letters, digits and `_.~-`, and
 * a leading `.` encoded too, so `/`, `%` or a `..` tag never changes a key's path.
 * @throws TagError for a tag that cannot be stored.
 */
export function encodeTag(tag: string, action: "added" | "removed", where: string): string {
  const system = SYSTEM_TAG_PREFIXES.find((prefix) => tag.startsWith(prefix));
  if (system) {
    throw new TagError(`${tag} is a system tag and cannot be ${action}`, {
      where,
      hint: `tags starting with ${SYSTEM_TAG_PREFIXES.join(", ")} are set by flowrun; choose a tag without those prefixes`,
    });
  }
  if (tag.length === 0) throw new TagError("a tag cannot be empty", { where });
  let encoded: string;
  try {
    encoded = encodeURIComponent(tag).replace(/[!'()*]|^\./g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  } catch {
    throw new TagError(`tag ${JSON.stringify(tag)} is not valid Unicode (it has a lone surrogate)`, { where });
  }
  if (encoded.length > MAX_ENCODED_TAG) {
    throw new TagError(`tag ${JSON.stringify(`${[...tag].slice(0, 40).join("")}...`)} is too long: ${encoded.length} bytes stored (percent-encoded), at most ${MAX_ENCODED_TAG}`, {
      where,
      hint: "use a shorter tag (letters, digits and _.~- take one byte each, other characters 3 to 12)",
    });
  }
  return encoded;
}

export function decodeTag(segment: string): string {
  return decodeURIComponent(segment);
}
