import { FlowSpec, step } from "flowrun";

/** Ten trivial steps in a line: what scheduling and worker start-up cost per step. */
export default class LinearTenFlow extends FlowSpec {
  declare count: number;

  /** Start the chain. */
  @step
  start() {
    this.count = 1;
    this.next(this.s2);
  }

  @step s2() { this.count += 1; this.next(this.s3); }
  @step s3() { this.count += 1; this.next(this.s4); }
  @step s4() { this.count += 1; this.next(this.s5); }
  @step s5() { this.count += 1; this.next(this.s6); }
  @step s6() { this.count += 1; this.next(this.s7); }
  @step s7() { this.count += 1; this.next(this.s8); }
  @step s8() { this.count += 1; this.next(this.s9); }
  @step s9() { this.count += 1; this.next(this.end); }

  /** Step ten. */
  @step
  end() {
    this.count += 1;
  }
}
