import { FlowSpec, step, dependencies, project, Parameter, current, type Inputs } from "flowrun";

/**
 * Two steps of one run import conflicting major versions of lodash: each step's bare
 * imports resolve to its own dependency environment.
 */
@project({ name: "dependency-demo" })
export default class LodashVersionsFlow extends FlowSpec {
  testMode = Parameter("test-mode", { default: () => !current.isProduction, help: "unused; every run is small" });

  declare legacyVersion: string;
  declare modernVersion: string;
  declare versions: string[];

  /** Fan out to the two steps. */
  @step
  start() {
    this.next(this.legacy, this.modern);
  }

  @dependencies({ packages: { lodash: "^3.10.0" } })
  @step
  async legacy() {
    const lodash = (await import("lodash")).default;
    this.legacyVersion = lodash.VERSION;
    this.next(this.join);
  }

  @dependencies({ packages: { lodash: "^4.17.0" } })
  @step
  async modern() {
    const lodash = (await import("lodash")).default;
    this.modernVersion = lodash.VERSION;
    this.next(this.join);
  }

  @step
  join(inputs: Inputs<LodashVersionsFlow>) {
    this.versions = [inputs.legacy.legacyVersion, inputs.modern.modernVersion];
    this.next(this.end);
  }

  /** Show which version each step saw. */
  @step
  end() {
    console.log(`legacy step saw lodash ${this.versions[0]}, modern step saw lodash ${this.versions[1]}`);
  }
}
