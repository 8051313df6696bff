import { FlowSpec, step, Parameter, project, current, type Inputs } from "flowrun";

/**
 * A foreach inside a foreach: one task per row of a small table, and inside each row one
 * task per cell. The inner join rebuilds each row, the outer join the table, both in index
 * order whatever order the tasks finished in.
 */
@project({ name: "grids" })
export default class NestedForeachFlow extends FlowSpec {
  testMode = Parameter("test-mode", { default: () => !current.isProduction, help: "Use a 3-row table instead of 5 rows" });
  scale = Parameter("scale", { default: 10, help: "Each cell's value is multiplied by this" });

  declare rows: number[][];
  declare row: number;
  declare cells: number[];
  declare value: number;
  declare position: string;
  declare rowValues: number[];
  declare positions: string[];
  declare table: number[][];
  declare rowOrder: number[];

  /** Build the table to fan out over. */
  @step
  start() {
    const rows = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10], [11, 12]];
    this.rows = this.testMode ? rows.slice(0, 3) : rows;
    this.next(this.eachRow, { foreach: "rows" });
  }

  @step
  eachRow() {
    this.row = this.index;
    this.cells = this.input;
    this.next(this.eachCell, { foreach: "cells" });
  }

  @step
  async eachCell() {
    // The first cell of each row finishes last: the joins must still see index order.
    if (this.index === 0) await new Promise((resolve) => setTimeout(resolve, 150));
    this.value = this.input * this.scale;
    this.position = `${this.row}.${this.index}`;
    this.next(this.joinRow);
  }

  @step
  joinRow(inputs: Inputs<NestedForeachFlow>) {
    this.row = inputs[0]!.row;
    this.rowValues = inputs.map((cell) => cell.value);
    this.positions = inputs.map((cell) => cell.position);
    this.next(this.joinTable);
  }

  @step
  joinTable(inputs: Inputs<NestedForeachFlow>) {
    this.table = inputs.map((row) => row.rowValues);
    this.rowOrder = inputs.map((row) => row.row);
    this.positions = inputs.flatMap((row) => row.positions);
    this.next(this.end);
  }

  /** Print the table. */
  @step
  end() {
    for (const row of this.table) console.log(row.join("\t"));
  }
}
