/**
 * Draws a Vega-Lite spec as SVG on the server, so a page or a card file needs no script to
 * show a chart (and works offline, under a strict Content-Security-Policy). Vega is loaded on
 * the first chart only (~0.5 s). A spec comes from a flow, so it is not trusted: its loader
 * refuses every URL and file (a spec's `data.url` could otherwise read the server's files).
 */
export async function vegaLiteToSvg(spec: Record<string, unknown>): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  let refused: string | undefined;
  const refuse = async (uri: string): Promise<never> => {
    refused ??= uri;
    throw new Error(`${uri} is not loaded`);
  };
  const loader = { ...vega.loader(), load: refuse, sanitize: refuse, http: refuse, file: refuse };
  const { spec: compiled } = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]);
  const view = new vega.View(vega.parse(compiled), { renderer: "none", loader: loader as never });
  try {
    const svg = await view.toSVG();
    // Vega logs a failed load and draws the chart without the data: say why instead.
    if (refused !== undefined) throw new Error(`charts carry their data inline (data: { values: [...] }); ${JSON.stringify(refused)} is not loaded`);
    return svg;
  } finally {
    view.finalize();
  }
}

/** A line chart of numbers (an artifact that is an array of numbers or a typed array), sampled to `points`. */
export function numbersChartSpec(values: ArrayLike<number | bigint>, points = 500): Record<string, unknown> {
  const step = Math.max(1, Math.ceil(values.length / points));
  const data: Array<{ i: number; v: number }> = [];
  for (let i = 0; i < values.length; i += step) data.push({ i, v: Number(values[i]) });
  return {
    width: 480,
    height: 160,
    data: { values: data },
    mark: { type: "line", tooltip: false },
    encoding: { x: { field: "i", type: "quantitative", title: "index" }, y: { field: "v", type: "quantitative", title: "value" } },
  };
}
