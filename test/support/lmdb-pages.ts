/**
 * Finds pages inside an LMDB data.mdb so a test can damage exactly one of them. Knows only
 * what it needs of lmdb's mdb.c layout (64-bit pages: 24-byte header, meta after it) and
 * reads the file the way a test would with a hex editor, independently of flowrun's checker.
 */
import { readFileSync } from "node:fs";

const HEADER = 24;

/** The page number of a non-root page in the middle of the named DB's tree (`records`, `blobs`). */
export function middlePageOf(file: string, dbName: string): { pgno: number; pageSize: number } {
  const data = readFileSync(file);
  const pageSize = data.readUInt32LE(HEADER + 24);
  const meta = (page: number) => page * pageSize + HEADER;
  const txnid = (page: number) => data.readBigUInt64LE(meta(page) + 24 + 96 + 8);
  const newest = txnid(0) > txnid(1) ? 0 : 1;
  const mainRoot = Number(data.readBigUInt64LE(meta(newest) + 24 + 48 + 40));
  const nodes = (pgno: number) => {
    const page = pgno * pageSize;
    return Array.from({ length: data.readUInt16LE(page + 20) >> 1 }, (_, i) => page + HEADER + data.readUInt16LE(page + HEADER + 2 * i));
  };
  // Named DBs are keys of the main DB, NUL included.
  const named = nodes(mainRoot).find((node) => data.toString("utf8", node + 8, node + 8 + data.readUInt16LE(node + 6)) === `${dbName}\0`);
  if (named === undefined) throw new Error(`${file} has no DB named ${dbName}`);
  const record = named + 8 + data.readUInt16LE(named + 6);
  if (data.readUInt16LE(record + 6) < 2) throw new Error(`the ${dbName} DB of ${file} is a single page: write more before damaging its middle`);
  const children = nodes(Number(data.readBigUInt64LE(record + 40))).map((node) => data.readUInt16LE(node) | (data.readUInt16LE(node + 2) << 16));
  return { pgno: children[children.length >> 1]!, pageSize };
}
