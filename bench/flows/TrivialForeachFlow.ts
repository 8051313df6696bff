import { FlowSpec, step, Parameter, type Inputs } from "flowrun";

/** A foreach of `--splits` trivial tasks, then a join: the per-task cost of the runtime. */
export default class TrivialForeachFlow extends FlowSpec {
  splits = Parameter("splits", { default: 1000, help: "Number of foreach splits" });

  declare items: number[];
  declare doubled: number;
  declare total: number;

  /** Fan out. */
  @step
  start() {
    this.items = Array.from({ length: this.splits }, (_, i) => i);
    this.next(this.body, { foreach: "items" });
  }

  @step
  body() {
    this.doubled = (this.input as number) * 2;
    this.next(this.join);
  }

  @step
  join(inputs: Inputs<TrivialForeachFlow>) {
    this.total = inputs.length;
    this.next(this.end);
  }

  /** Done. */
  @step
  end() {}
}
