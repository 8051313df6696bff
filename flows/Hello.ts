import { FlowSpec, step, Parameter, project, current } from "flowrun";

/** The smallest useful flow: a linear chain of steps with parameters. */
@project({ name: "hello" })
export default class HelloFlow extends FlowSpec {
  who = Parameter("name", { default: "world", help: "Who to greet" });
  times = Parameter("times", { default: 2, help: "How many times to repeat the greeting" });
  testMode = Parameter("test-mode", { default: () => !current.isProduction, help: "Run quickly on little data" });

  declare greeting: string;
  declare repeated: string[];

  /** Build the greeting from the parameters. */
  @step
  start() {
    this.greeting = `Hello, ${this.who}!`;
    console.log(`greeting ${this.who} in run ${current.runId}`);
    this.next(this.repeat);
  }

  /** Repeat it. */
  @step
  repeat() {
    this.repeated = Array.from({ length: this.times }, () => this.greeting);
    this.next(this.end);
  }

  /** Print the result. */
  @step
  end() {
    console.log(this.repeated.join(" "));
  }
}
