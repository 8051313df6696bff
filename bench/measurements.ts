/**
 * The registry of benchmarks `npm run bench` runs, in order. To add one (S3, the arXiv
 * flow, ...): write a `Measurement` in its own file under bench/ and append it here; its
 * rows land in the same table.
 */
import { arxivMeasurements } from "./arxiv-measurements.js";
import { artifactMeasurements } from "./artifact-measurements.js";
import { binaryMeasurements } from "./binary-measurements.js";
import { blobCacheMeasurements } from "./blob-cache-measurements.js";
import { checkMeasurements } from "./check-measurements.js";
import type { Measurement } from "./context.js";
import { fileMeasurements } from "./file-measurements.js";
import { flowMeasurements } from "./flow-measurements.js";
import { remoteMeasurements } from "./remote-measurements.js";
import { s3Measurements } from "./s3-measurements.js";
import { uiMeasurements } from "./ui-measurements.js";

export type { BenchContext, Measurement } from "./context.js";
export { printTable, type BenchRow, type BenchTarget } from "./table.js";

export const measurements: Measurement[] = [...checkMeasurements, ...flowMeasurements, ...artifactMeasurements, ...s3Measurements, ...fileMeasurements, ...blobCacheMeasurements, ...arxivMeasurements, ...binaryMeasurements, ...remoteMeasurements, ...uiMeasurements];
