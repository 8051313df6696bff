/**
 * flowrun: Metaflow for TypeScript.
 *
 * ```ts
 * import { FlowSpec, step, Parameter } from "flowrun";
 *
 * export default class HelloFlow extends FlowSpec {
 *   name = Parameter("name", { default: "world" });
 *   declare greeting: string;
 *
 *   @step start() { this.greeting = `hello ${this.name}`; this.next(this.end); }
 *   @step end() { console.log(this.greeting); }
 * }
 * ```
 * `flowrun run hello.ts --name you` runs it; `new Flow("HelloFlow").latestRun()` reads it back.
 */
export * from "./flow-api.js";
export { Flow, Run, Step, Task, listFlows, type LogOptions } from "./client/objects.js";
export type { TaskCardContent } from "./client/task-card.js";
export type { TaskException } from "../runtime/metadata/records.js";
export { namespace, getNamespace, defaultNamespace } from "./client/namespace.js";
export { Runner } from "./client/runner.js";
