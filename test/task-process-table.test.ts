/**
 * The tasks of a batch keep their process tables in one shared buffer
 * (runtime/task-process-table.ts): each task's processes stay its own, as the worker records
 * them through its own view of the buffer and the main thread ends them per task.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_TASK_PROCESSES, TaskProcessTable } from "../runtime/task-process-table.js";

test("tables sharing one buffer list only their own task's processes", () => {
  const main = TaskProcessTable.many(3);
  // The worker's side: a table made from each task's ref, as a request carries it.
  const worker = main.map((table) => new TaskProcessTable(structuredClone(table.ref)));
  assert.equal(worker[1]!.add({ pid: 111, group: false }), "added");
  assert.equal(worker[2]!.add({ pid: 222, group: true }), "added");
  assert.equal(worker[2]!.add({ pid: 223, group: false }), "added");
  worker[2]!.remove(223);

  assert.deepEqual(main[0]!.close(), []);
  assert.deepEqual(main[1]!.close(), [{ pid: 111, group: false }]);
  assert.equal(worker[1]!.add({ pid: 112, group: false }), "closed", "a closed table says so to its own task");
  assert.equal(worker[2]!.add({ pid: 224, group: false }), "added", "closing a neighbour's table does not close this one");
  assert.deepEqual(main[2]!.close(), [{ pid: 222, group: true }, { pid: 224, group: false }]);
});

test("the last table of a shared buffer holds as many processes as a table of its own", () => {
  const [, last] = TaskProcessTable.many(2);
  for (let pid = 1; pid <= MAX_TASK_PROCESSES; pid++) assert.equal(last!.add({ pid, group: false }), "added");
  assert.equal(last!.add({ pid: MAX_TASK_PROCESSES + 1, group: false }), "full");
  assert.equal(last!.close().length, MAX_TASK_PROCESSES);
});
