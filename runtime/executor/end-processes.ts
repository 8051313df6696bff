/**
 * Ends the processes a task left running, with everything they started: SIGTERM first, then
 * SIGKILL for whatever still runs after a grace period. A process left behind would outlive
 * the CLI and keep its output pipe open (`flowrun run ... | cat` would never end).
 *
 * Descendants are found on Linux through /proc (each process's parent and group), read
 * before any signal is sent: once a parent dies its children move to init and the link is
 * lost. Elsewhere only the processes the step started, and the groups of those started
 * `detached`, are signalled.
 */
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { StartedProcess } from "../task-process-table.js";

/** How long a process has to exit after SIGTERM. */
const GRACE_MS = 2000;
const POLL_MS = 50;

interface ProcessInfo {
  ppid: number;
  pgrp: number;
  /** Not a zombie: an exited process nobody has waited for yet holds no pipe and needs no signal. */
  running: boolean;
}

export async function endProcesses(started: StartedProcess[]): Promise<void> {
  if (started.length === 0) return;
  const targets = processTree(started, listProcesses());
  signal(started, targets, "SIGTERM");
  const deadline = performance.now() + GRACE_MS;
  for (;;) {
    const processes = listProcesses();
    const left = [...processTree(started, processes, targets)].filter((pid) => processes.get(pid)?.running);
    if (left.length === 0) return;
    if (performance.now() >= deadline) {
      signal(started, new Set(left), "SIGKILL");
      return;
    }
    await sleep(POLL_MS);
  }
}

/** Every running process on Linux, by pid; empty where there is no /proc. */
function listProcesses(): Map<number, ProcessInfo> {
  const processes = new Map<number, ProcessInfo>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return processes;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "latin1");
    } catch {
      continue; // exited while listing
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    processes.set(Number(entry), { ppid: Number(ppid), pgrp: Number(pgrp), running: state !== "Z" && state !== "X" });
  }
  return processes;
}

/** The started processes, the members of their groups, and all their descendants. */
function processTree(started: StartedProcess[], processes: Map<number, ProcessInfo>, known: Iterable<number> = []): Set<number> {
  const children = new Map<number, number[]>();
  for (const [pid, info] of processes) {
    const siblings = children.get(info.ppid);
    if (siblings) siblings.push(pid);
    else children.set(info.ppid, [pid]);
  }
  const groups = new Set(started.filter((p) => p.group).map((p) => p.pid));
  const tree = new Set<number>();
  const visit = (pid: number): void => {
    if (tree.has(pid)) return;
    tree.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  for (const pid of [...started.map((p) => p.pid), ...known]) visit(pid);
  for (const [pid, info] of processes) if (groups.has(info.pgrp)) visit(pid);
  return tree;
}

function signal(started: StartedProcess[], pids: Set<number>, name: NodeJS.Signals): void {
  for (const { pid } of started.filter((p) => p.group)) send(-pid, name);
  for (const pid of pids) send(pid, name);
}

function send(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    // ESRCH: already gone. EPERM: it became another user's (a setuid program): not ours to end.
    if (!["ESRCH", "EPERM"].includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
  }
}
