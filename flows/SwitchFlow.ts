import { FlowSpec, step, Parameter, project, current } from "flowrun";

/**
 * A switch on a string artifact. `poll` gathers one batch at a time and `check` sends the
 * run back to `poll` until enough batches are in (the one kind of loop a flow may have);
 * then `route` picks exactly one of two paths by the amount gathered. No join is needed:
 * only the chosen step runs.
 */
@project({ name: "polling" })
export default class SwitchLoopFlow extends FlowSpec {
  testMode = Parameter("test-mode", { default: () => !current.isProduction, help: "Run quickly on little data" });
  batches = Parameter("batches", { default: 3, help: "How many batches to poll before moving on" });
  threshold = Parameter("threshold", { default: 10, help: "Totals above this take the thorough path" });

  declare polled: number[];
  declare state: string;
  declare size: string;
  declare total: number;
  declare path: string;

  /** Nothing polled yet. */
  @step
  start() {
    this.polled = [];
    this.next(this.poll);
  }

  @step
  poll() {
    const batch = this.polled.length + 1;
    this.polled = [...this.polled, batch];
    console.log(`polled batch ${batch}`);
    this.next(this.check);
  }

  @step
  check() {
    this.state = this.polled.length < this.batches ? "waiting" : "ready";
    this.next({ waiting: this.poll, ready: this.route }, { condition: "state" });
  }

  @step
  route() {
    this.total = this.polled.reduce((a, b) => a + b, 0);
    this.size = this.total > this.threshold ? "large" : "small";
    this.next({ small: this.quick, large: this.thorough }, { condition: "size" });
  }

  @step
  quick() {
    this.path = "quick";
    this.next(this.end);
  }

  @step
  thorough() {
    this.path = "thorough";
    this.next(this.end);
  }

  /** Report which path ran. */
  @step
  end() {
    console.log(`${this.polled.length} batches, total ${this.total}: ${this.path} path`);
  }
}
