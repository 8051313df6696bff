/**
 * Reads an LMDB data file's structure without LMDB. lmdb-js maps data.mdb into memory and
 * trusts it: a truncated file kills the process with SIGBUS on the first page past the end,
 * and a page of garbage in a B-tree aborts it on an assertion (`IS_LEAF(mp)`); a corrupt
 * meta page crashes lmdb-js's close (SIGSEGV). None of those can be caught once LMDB runs,
 * so they are looked for before it opens the file.
 *
 * What is checked, against the layout in lmdb's mdb.c (64-bit pages: a 24-byte header of
 * pgno, txnid, pad, flags, lower, upper; the meta after it):
 * - both meta pages: P_META, MDB_MAGIC, data version 2, a power-of-two page size; the one
 *   with the higher txnid is used, as LMDB does;
 * - every branch and leaf page of the free-page DB, the main DB and each named DB in it
 *   (`blobs`, `records`): its pgno is its position, its flags say branch or leaf as its
 *   place in the tree requires, lower/upper lie inside the page, the tree is no deeper
 *   than its DB record says and no page is reached twice; in branch pages and in the
 *   leaves of the free-page and main DBs, every node lies inside the page;
 * - every page a tree points at, overflow runs included, lies inside the file (a truncated
 *   file is caught whatever it cut).
 * What is not: the bytes of overflow pages (large values), and the nodes (keys, values)
 * inside the leaves of `blobs` and `records` beyond their page header, are never read here. Blobs are content-addressed, so `flowrun datastore verify`
 * catches a changed byte there by re-hashing; a changed record value reads back as wrong
 * JSON, not as a crash.
 *
 * A writer in another process may commit, and later reuse pages, while the file is read:
 * a problem counts only if the newest meta is the same before and after the walk.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { endianness } from "node:os";
import { join } from "node:path";
import { threadId } from "node:worker_threads";

const PAGE_HEADER = 24;
const NODE_HEADER = 8;
const MDB_MAGIC = 0xbeefc0de;
const MDB_DATA_VERSION = 2;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_META = 0x08;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const DB_RECORD = 48;
const P_INVALID = 0xffffffffffffffffn;
/** Walks repeated because a writer committed meanwhile, before the file is taken as it is. */
const MAX_WALKS = 3;

interface Meta {
  txnid: bigint;
  pageSize: number;
  lastPage: bigint;
  freeDb: DbRecord;
  mainDb: DbRecord;
}

interface DbRecord {
  root: bigint;
  depth: number;
}

/** What is wrong with the file, one short phrase per problem (empty: nothing found). */
export function lmdbFileProblems(file: string): string[] {
  return examine(file).problems;
}

/**
 * `lmdbFileProblems` for every process's open (its task workers share it), made cheap by
 * remembering the last file found sound (next to it, in MARKER): unchanged since (same
 * inode, size, mtime, txnid) costs a stat and two small reads. Changed by commits since,
 * only pages written after it are walked: B-tree pages are copy-on-write, so a subtree whose
 * top page is older than the marker is exactly what was checked then. A file changed without
 * a commit (copied over, edited, truncated) is walked whole.
 */
export function checkedLmdbFileProblems(directory: string): string[] {
  const file = join(directory, "data.mdb");
  const marker = join(directory, MARKER);
  const stats = statSync(file, { bigint: true });
  let known: Partial<Record<"ino" | "size" | "mtimeNs" | "txnid", string>> = {};
  try {
    known = JSON.parse(readFileSync(marker, "utf8"));
  } catch {
    // no marker (or an unreadable one): walk the whole file
  }
  // LMDB never shrinks its file: a smaller one was replaced in place (a restored copy).
  const sameFile = known.ino === String(stats.ino) && known.size !== undefined && stats.size >= BigInt(known.size);
  const unchanged = sameFile && known.size === String(stats.size) && known.mtimeNs === String(stats.mtimeNs);
  const checked = sameFile && known.txnid !== undefined ? { txnid: BigInt(known.txnid), unchanged } : undefined;
  const { problems, txnid } = examine(file, checked);
  if (problems.length === 0 && txnid !== undefined && !(unchanged && String(txnid) === known.txnid)) {
    const record = { ino: String(stats.ino), size: String(stats.size), mtimeNs: String(stats.mtimeNs), txnid: String(txnid) };
    const temp = `${marker}.${process.pid}.${threadId}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify(record));
      renameSync(temp, marker);
    } catch {
      rmSync(temp, { force: true }); // only the next open pays: it walks again
    }
  }
  return problems;
}

/** Remembers the last data file found sound: see `checkedLmdbFileProblems`. */
const MARKER = "flowrun-checked.json";

/**
 * Walks the file's trees. `checked`: the file was found sound at that txnid; if nothing
 * changed since, nothing is walked; if only commits did, pages they did not write are skipped.
 */
function examine(file: string, checked?: { txnid: bigint; unchanged: boolean }): { problems: string[]; txnid?: bigint } {
  const fd = openSync(file, "r");
  try {
    const reader = new PageReader(fd);
    for (let walk = 1; ; walk++) {
      const metaSize = fstatSync(fd).size;
      if (metaSize === 0) return { problems: ["it is empty (0 bytes)"] };
      const before = readMetas(reader, metaSize);
      if (typeof before === "string") return { problems: [before] };
      // LMDB writes a commit's pages before its meta page, so the size read after the meta
      // covers every page it refers to; read before it, a commit in between looks like truncation.
      const size = fstatSync(fd).size;
      if (checked?.unchanged && before.txnid === checked.txnid) return { problems: [], txnid: before.txnid };
      const since = checked && before.txnid > checked.txnid ? checked.txnid : 0n;
      const problems = walkTrees(reader, before, size, since);
      const after = readMetas(reader, fstatSync(fd).size);
      const steady = typeof after !== "string" && after.txnid === before.txnid;
      if (problems.length === 0 || steady) return { problems, txnid: steady ? before.txnid : undefined };
      // Commits kept rewriting pages under every walk: a writer is using the file without
      // trouble, which is no evidence of damage. Report nothing and remember nothing.
      if (walk === MAX_WALKS) return { problems: [] };
    }
  } finally {
    closeSync(fd);
  }
}

const LE = endianness() === "LE";

class PageReader {
  private buffer = Buffer.alloc(65536);

  constructor(private readonly fd: number) {}

  /**
   * Bytes at `offset`, valid until the next read (fewer when the file ends first). Callers
   * bound `length` by the file's size; a free-page list on overflow pages can exceed the
   * usual buffer (a commit that freed 25,000 pages writes a 200 KB list).
   */
  read(offset: number, length: number): Buffer {
    if (length > this.buffer.length) this.buffer = Buffer.alloc(length);
    const got = readSync(this.fd, this.buffer, 0, length, offset);
    return this.buffer.subarray(0, got);
  }
}

const u16 = (b: Buffer, at: number) => (LE ? b.readUInt16LE(at) : b.readUInt16BE(at));
const u32 = (b: Buffer, at: number) => (LE ? b.readUInt32LE(at) : b.readUInt32BE(at));
const u64 = (b: Buffer, at: number) => (LE ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at));

function dbRecord(b: Buffer, at: number): DbRecord {
  return { depth: u16(b, at + 6), root: u64(b, at + 40) };
}

/** The newest valid meta page, or why there is none. */
function readMetas(reader: PageReader, size: number): Meta | string {
  const first = reader.read(0, PAGE_HEADER + 136);
  if (first.length < PAGE_HEADER + 136) return `it is too short to be an LMDB file (${size} bytes)`;
  const pageSize = u32(first, PAGE_HEADER + 24);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return "it is not an LMDB file (no valid meta page)";
  const metas: Meta[] = [];
  for (const page of [0, 1]) {
    const b = reader.read(page * pageSize, PAGE_HEADER + 136);
    if (b.length < PAGE_HEADER + 136) return `it is truncated (${size} bytes, shorter than its two meta pages)`;
    if ((u16(b, 18) & P_META) === 0 || u32(b, PAGE_HEADER) !== MDB_MAGIC || u32(b, PAGE_HEADER + 4) !== MDB_DATA_VERSION) {
      return `meta page ${page} is damaged`;
    }
    metas.push({
      pageSize,
      freeDb: dbRecord(b, PAGE_HEADER + 24),
      mainDb: dbRecord(b, PAGE_HEADER + 24 + DB_RECORD),
      lastPage: u64(b, PAGE_HEADER + 24 + 2 * DB_RECORD),
      txnid: u64(b, PAGE_HEADER + 24 + 2 * DB_RECORD + 8),
    });
  }
  return metas[0]!.txnid > metas[1]!.txnid ? metas[0]! : metas[1]!;
}

function walkTrees(reader: PageReader, meta: Meta, size: number, since: bigint): string[] {
  const problems: string[] = [];
  const filePages = BigInt(Math.floor(size / meta.pageSize));
  const seen = new Set<bigint>();
  const free = new Set<bigint>();
  const truncated = (what: string) => `it is truncated (${size} bytes; ${what} lies past the end)`;

  /**
   * Walks one B-tree. Leaves are read whole only when their values matter here (`values`):
   * the main DB (names of the other DBs) and the free-page DB (which pages are free). The
   * leaves of `blobs` and `records`, nearly all of the file's tree pages, cost a 24-byte
   * header read each.
   */
  const walk = (db: string, root: bigint, depth: number, values?: (node: LeafNode) => void): void => {
    if (root === P_INVALID) return; // an empty DB
    const visit = (pgno: bigint, level: number): void => {
      try {
        visitPage(pgno, level);
      } catch (error) {
        // A number in the page points past its end: bytes a commit was rewriting, or damage.
        if ((error as NodeJS.ErrnoException).code !== "ERR_OUT_OF_RANGE") throw error;
        problems.push(`page ${pgno} (${db} DB) points past its own end`);
      }
    };
    const visitPage = (pgno: bigint, level: number): void => {
      if (problems.length > 0) return;
      if (pgno >= filePages) return void problems.push(truncated(`page ${pgno} of the ${db} DB`));
      if (seen.has(pgno)) return void problems.push(`page ${pgno} is reached twice (in the ${db} DB)`);
      seen.add(pgno);
      const leaf = level === depth;
      const page = reader.read(Number(pgno) * meta.pageSize, leaf && !values ? PAGE_HEADER : meta.pageSize);
      const where = `page ${pgno} (${db} DB, level ${level} of ${depth})`;
      const lower = u16(page, 20);
      const upper = u16(page, 22);
      if (u64(page, 0) !== pgno || (u16(page, 18) & (P_BRANCH | P_LEAF)) !== (leaf ? P_LEAF : P_BRANCH) || lower > upper || upper > meta.pageSize - PAGE_HEADER) {
        return void problems.push(`${where} is not a ${leaf ? "leaf" : "branch"} page of that tree`);
      }
      if ((leaf && !values) || (!values && u64(page, 8) <= since)) return;
      const children: bigint[] = [];
      for (let i = 0; i < lower >> 1; i++) {
        const node = PAGE_HEADER + u16(page, PAGE_HEADER + 2 * i);
        if (node < PAGE_HEADER + lower || node + NODE_HEADER > meta.pageSize) return void problems.push(`${where} has a node outside the page`);
        const low = u16(page, node);
        const high = u16(page, node + 2);
        const flags = u16(page, node + 4);
        const data = node + NODE_HEADER + u16(page, node + 6);
        if (!leaf) {
          children.push(BigInt(low) | (BigInt(high) << 16n) | (BigInt(flags) << 32n));
          continue;
        }
        const dataSize = low | (high << 16);
        if (data + (flags & F_BIGDATA ? 8 : dataSize) > meta.pageSize) return void problems.push(`${where} has a node outside the page`);
        values!({ page, node, data, dataSize, flags });
      }
      for (const child of children) visit(child, level + 1);
    };
    visit(root, 1);
  };

  // Free-page lists (key: txnid; value: count, then page numbers), stored inline or on overflow pages.
  walk("free-page", meta.freeDb.root, meta.freeDb.depth, ({ page, data, dataSize, flags }) => {
    let list = page;
    let at = data;
    if (flags & F_BIGDATA) {
      const pgno = u64(page, data);
      if (pgno + BigInt(Math.floor((PAGE_HEADER - 1 + dataSize) / meta.pageSize) + 1) > filePages) return void problems.push(truncated("a free-page list"));
      list = Buffer.from(reader.read(Number(pgno) * meta.pageSize + PAGE_HEADER, dataSize));
      at = 0;
      if (list.length < dataSize) return void problems.push(truncated("a free-page list"));
    }
    if (dataSize < 8) return void problems.push("a free-page list of the free-page DB is shorter than its count");
    const count = Math.min(Number(u64(list, at)), Math.floor(dataSize / 8) - 1);
    for (let i = 1; i <= count; i++) free.add(u64(list, at + 8 * i));
  });
  const named: Array<{ name: string } & DbRecord> = [];
  walk("main", meta.mainDb.root, meta.mainDb.depth, ({ page, node, data, flags }) => {
    if (flags & F_SUBDATA) named.push({ name: page.toString("utf8", node + NODE_HEADER, data).replace(/\0$/, ""), ...dbRecord(page, data) });
  });
  for (const db of named) walk(`'${db.name}'`, db.root, db.depth);
  // Values too big for a leaf (blobs, long records) sit on overflow pages, which are not
  // read. LMDB only ever writes below its last page; the file may end earlier only by
  // pages that are free (allocated, then released unwritten).
  for (let pgno = filePages; problems.length === 0 && pgno <= meta.lastPage; pgno++) {
    if (!free.has(pgno)) problems.push(truncated(`page ${pgno}`));
  }
  return problems;
}

interface LeafNode {
  page: Buffer;
  node: number;
  data: number;
  dataSize: number;
  flags: number;
}
