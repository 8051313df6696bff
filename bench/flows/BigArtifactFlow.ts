import { FlowSpec, step, Parameter } from "flowrun";

/**
 * Writes a `--mb` MB Float64Array in one step and sums it in the next. Each measured step
 * records when its body began and ended (`Date.now()`, the clock the scheduler's task
 * records use), so the bench can split a task's duration into before / in / after the
 * body: the artifact write happens after the body returns. The sleeps run *before* the
 * timed part and give the next step's worker time to start, so no timed task waits for a
 * cold worker.
 */
export default class BigArtifactFlow extends FlowSpec {
  mb = Parameter("mb", { default: 100, help: "Artifact size in MB (2^20 bytes)" });
  warmupMs = Parameter("warmup-ms", { default: 2500, help: "Pause before each timed step body" });

  declare data: Float64Array;
  declare writeBodyStart: number;
  declare writeBodyEnd: number;
  declare readBodyStart: number;
  declare readBodyEnd: number;
  declare readMs: number;
  declare readLoadMs: number;
  declare sum: number;

  /** Let the write step's worker start. */
  @step
  async start() {
    await new Promise((done) => setTimeout(done, this.warmupMs));
    this.next(this.write);
  }

  @step
  async write() {
    await new Promise((done) => setTimeout(done, this.warmupMs));
    this.writeBodyStart = Date.now();
    const data = new Float64Array(Math.round((this.mb * 2 ** 20) / 8));
    for (let i = 0; i < data.length; i++) data[i] = i * 0.5;
    this.data = data;
    this.writeBodyEnd = Date.now();
    this.next(this.read);
  }

  @step
  read() {
    this.readBodyStart = Date.now();
    const t0 = performance.now();
    const data = this.data;
    this.readLoadMs = performance.now() - t0;
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i]!;
    this.readMs = performance.now() - t0;
    this.sum = sum;
    this.readBodyEnd = Date.now();
    this.next(this.end);
  }

  /** Done. */
  @step
  end() {}
}
