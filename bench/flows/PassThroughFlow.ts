import { FlowSpec, step, Parameter } from "flowrun";

/**
 * Makes a `--mb` MB artifact, then a step that never touches it: what carrying a large
 * artifact through a step costs (it should pass by reference). `start` sleeps after
 * building the data so the `pass` worker is warm whatever the size.
 */
export default class PassThroughFlow extends FlowSpec {
  mb = Parameter("mb", { default: 500, help: "Artifact size in MB (2^20 bytes)" });
  warmupMs = Parameter("warmup-ms", { default: 2500, help: "Pause so the next step's worker is warm" });

  declare data: Float64Array;
  declare startBodyStart: number;
  declare startBodyEnd: number;
  declare passBodyStart: number;
  declare passBodyEnd: number;
  declare note: string;

  /** Build the artifact. */
  @step
  async start() {
    this.startBodyStart = Date.now();
    const data = new Float64Array(Math.round((this.mb * 2 ** 20) / 8));
    for (let i = 0; i < data.length; i++) data[i] = i * 0.5;
    this.data = data;
    await new Promise((done) => setTimeout(done, this.warmupMs));
    this.startBodyEnd = Date.now();
    this.next(this.pass);
  }

  @step
  pass() {
    this.passBodyStart = Date.now();
    this.note = "passed through";
    this.passBodyEnd = Date.now();
    this.next(this.end);
  }

  /** Done. */
  @step
  end() {}
}
