import { FlowSpec, step, Parameter, type Inputs } from "flowrun";

/** A foreach of `--splits` tasks that each wait `--sleep-ms` (I/O, not CPU): how well tasks spread over workers. */
export default class SleepyForeachFlow extends FlowSpec {
  splits = Parameter("splits", { default: 100, help: "Number of foreach splits" });
  sleepMs = Parameter("sleep-ms", { default: 1000, help: "How long each split waits" });

  declare items: number[];
  declare slept: number;
  declare splitsJoined: number;

  /** Fan out. */
  @step
  start() {
    this.items = Array.from({ length: this.splits }, (_, i) => i);
    this.next(this.body, { foreach: "items" });
  }

  @step
  async body() {
    await new Promise((resolve) => setTimeout(resolve, this.sleepMs));
    this.slept = this.sleepMs;
    this.next(this.join);
  }

  @step
  join(inputs: Inputs<SleepyForeachFlow>) {
    this.splitsJoined = inputs.length;
    this.next(this.end);
  }

  /** Done. */
  @step
  end() {}
}
