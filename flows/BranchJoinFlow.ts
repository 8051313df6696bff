import { FlowSpec, step, Parameter, project, current, type Inputs } from "flowrun";

/**
 * Two static branches, twice: each pair of branches computes its own value under the same
 * artifact name, and a join step reads them by branch name (`inputs.evens.total`) and
 * merges the artifacts the branches agree on.
 */
@project({ name: "branches" })
export default class BranchJoinFlow extends FlowSpec {
  testMode = Parameter("test-mode", { default: () => !current.isProduction, help: "Run quickly on little data" });
  size = Parameter("size", { default: 6, help: "How many numbers to split between the branches" });

  declare numbers: number[];
  declare unit: string;
  declare total: number;
  declare side: string;
  declare label: string;
  declare evensOnly: boolean;
  declare totals: { evens: number; odds: number };
  declare sides: string[];
  declare stat: number;
  declare stats: { average: number; spread: number };

  /** Make the numbers both branches share. */
  @step
  start() {
    this.numbers = Array.from({ length: this.testMode ? Math.min(this.size, 6) : this.size }, (_, i) => i + 1);
    this.unit = "points";
    this.next(this.evens, this.odds);
  }

  @step
  evens() {
    this.total = this.numbers.filter((n) => n % 2 === 0).reduce((a, b) => a + b, 0);
    this.side = "evens";
    this.label = "sum by parity";
    this.evensOnly = true;
    this.next(this.combine);
  }

  @step
  odds() {
    this.total = this.numbers.filter((n) => n % 2 === 1).reduce((a, b) => a + b, 0);
    this.side = "odds";
    this.label = "sum by parity";
    this.next(this.combine);
  }

  /** Named access to each branch; merge everything but the artifacts they disagree on. */
  @step
  combine(inputs: Inputs<BranchJoinFlow>) {
    this.totals = { evens: inputs.evens.total, odds: inputs.odds.total };
    this.sides = inputs.map((input) => input.side);
    this.mergeArtifacts(inputs, { exclude: ["total", "side"] });
    this.next(this.average, this.spread);
  }

  @step
  average() {
    this.stat = (this.totals.evens + this.totals.odds) / this.numbers.length;
    this.next(this.summarize);
  }

  @step
  spread() {
    this.stat = Math.max(...this.numbers) - Math.min(...this.numbers);
    this.next(this.summarize);
  }

  /** Keep only a few named artifacts from the branches. */
  @step
  summarize(inputs: Inputs<BranchJoinFlow>) {
    this.stats = { average: inputs.average.stat, spread: inputs.spread.stat };
    this.mergeArtifacts(inputs, { include: ["totals", "unit", "label"] });
    this.next(this.end);
  }

  /** Report the totals. */
  @step
  end() {
    console.log(`evens ${this.totals.evens} ${this.unit}, odds ${this.totals.odds} ${this.unit}`);
  }
}
