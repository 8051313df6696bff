/**
 * A run's timeline (Gantt) as SVG: a band per step, in which each task is a bar on the first
 * free lane, so a foreach of 10,000 tasks takes as many lanes as ran at once, not 10,000 rows.
 * A task's bar is its wait for a worker (light) then its run (coloured by outcome); a retried
 * task shows its failed attempts too. Bars carry `data-task`; the page's script adds hovering
 * and links, so the SVG stays small.
 */
import type { RunGraph, TaskRecord } from "../../runtime/metadata/records.js";
import { formatDuration } from "../core/format-duration.js";
import { html, type SafeHtml } from "./html.js";

const WIDTH = 1100;
const LABEL_WIDTH = 150;
const LANE_HEIGHT = 9;
const MAX_LANES = 30;
const AXIS_HEIGHT = 22;

interface Interval {
  task: TaskRecord;
  attempt: number;
  status: string;
  waitFrom?: number;
  start: number;
  end: number;
}

export function timelineSvg(graph: RunGraph, tasks: readonly TaskRecord[], runStart: number, now: number): SafeHtml {
  const intervals = tasks.flatMap(taskIntervals(now));
  const end = intervals.reduce((latest, i) => Math.max(latest, i.end), now);
  const span = Math.max(1, end - runStart);
  const x = (t: number) => LABEL_WIDTH + ((t - runStart) / span) * (WIDTH - LABEL_WIDTH - 10);

  const byStep = new Map<string, Interval[]>();
  for (const interval of intervals) {
    if (!byStep.has(interval.task.step)) byStep.set(interval.task.step, []);
    byStep.get(interval.task.step)!.push(interval);
  }
  let y = AXIS_HEIGHT;
  const bands: SafeHtml[] = [];
  for (const { name } of graph.steps) {
    const stepIntervals = (byStep.get(name) ?? []).sort((a, b) => (a.waitFrom ?? a.start) - (b.waitFrom ?? b.start));
    const lanes = assignLanes(stepIntervals);
    const laneCount = lanes.reduce((most, l) => Math.max(most, l + 1), 1);
    const height = laneCount * LANE_HEIGHT + 6;
    const bars = laneBars(stepIntervals, lanes, x).map((bar) => {
      const top = y + 3 + bar.lane * LANE_HEIGHT;
      const shared = html`x="${bar.x0.toFixed(1)}" y="${top}" width="${(bar.x1 - bar.x0).toFixed(1)}" height="${LANE_HEIGHT - 2}" data-task="${bar.ref}" data-attempt="${bar.attempt}"${bar.count > 1 ? html` data-count="${bar.count}"` : null}`;
      return bar.kind === "wait"
        ? html`<rect class="bar wait" ${shared}></rect>`
        : html`<rect class="bar run status-${bar.status}" ${shared} data-ms="${bar.ms}" data-wait-ms="${bar.waitMs}"></rect>`;
    });
    bands.push(html`<g class="band" data-step="${name}"><rect class="band-bg" x="0" y="${y}" width="${WIDTH}" height="${height}"></rect><text class="band-label" x="6" y="${y + Math.min(height, 20) / 2 + 5}">${name}</text>${bars}</g>`);
    y += height;
  }
  const ticks = Array.from({ length: 6 }, (_, i) => {
    const t = runStart + (span * i) / 5;
    return html`<g class="tick"><line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${AXIS_HEIGHT - 4}" y2="${y}"></line><text x="${x(t).toFixed(1)}" y="${AXIS_HEIGHT - 8}"${i === 5 ? html` style="text-anchor: end"` : null}>${formatDuration(t - runStart)}</text></g>`;
  });
  return html`<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y + 4}" viewBox="0 0 ${WIDTH} ${y + 4}">${ticks}${bands}</svg>`;
}

/** A task's attempts as intervals: the earlier, failed ones, then the last. */
function taskIntervals(now: number) {
  return (task: TaskRecord): Interval[] => {
    const earlier = (task.earlierAttempts ?? []).map((a) => ({
      task, attempt: a.attempt, status: "failed",
      waitFrom: a.dispatchedAt ? Date.parse(a.dispatchedAt) : undefined,
      start: Date.parse(a.startedAt),
      end: a.finishedAt ? Date.parse(a.finishedAt) : Date.parse(a.startedAt),
    }));
    const start = Date.parse(task.startedAt);
    const last: Interval = {
      task, attempt: task.attempt, status: task.clonedFrom ? "cloned" : task.status,
      waitFrom: task.dispatchedAt ? Date.parse(task.dispatchedAt) : undefined,
      start,
      end: task.finishedAt ? Date.parse(task.finishedAt) : task.status === "running" ? now : start,
    };
    return [...earlier, last];
  };
}

interface Bar {
  kind: "wait" | "run";
  status: string;
  lane: number;
  x0: number;
  x1: number;
  /** `step/taskId` of its (first) task. */
  ref: string;
  attempt: number;
  /** Tasks drawn as this one bar: neighbours on a lane too narrow to tell apart. */
  count: number;
  ms: number;
  waitMs: number;
  /** Its last piece is narrower than NARROW_PX: the next narrow one touching it joins it. */
  narrowEnd: boolean;
  /** The task of its last piece. */
  lastRef: string;
}

/** Bars narrower than this that touch on a lane are drawn as one (10,000 tasks on 1,000 pixels are not 10,000 bars). */
const NARROW_PX = 2;

/**
 * Each interval's wait and run as bars on its lane, waits first (drawn beneath). A wait
 * narrower than half a pixel is not drawn (the run's bar says how long it was).
 */
function laneBars(intervals: readonly Interval[], lanes: readonly number[], x: (t: number) => number): Bar[] {
  const waits: Bar[] = [];
  const runs: Bar[] = [];
  const open = new Map<string, Bar>();
  const add = (into: Bar[], bar: Bar) => {
    const key = `${bar.lane} ${bar.kind} ${bar.status}`;
    const last = open.get(key);
    const narrow = bar.x1 - bar.x0 < NARROW_PX;
    // Attempts of one task stay apart: a retry is worth seeing.
    if (last && narrow && last.narrowEnd && last.lastRef !== bar.ref && bar.x0 <= last.x1 + 0.5) {
      last.x1 = Math.max(last.x1, bar.x1);
      last.lastRef = bar.ref;
      last.count++;
      last.ms += bar.ms;
      last.waitMs += bar.waitMs;
      return;
    }
    bar.narrowEnd = narrow;
    open.set(key, bar);
    into.push(bar);
  };
  intervals.forEach((interval, i) => {
    const lane = lanes[i]!;
    const ref = `${interval.task.step}/${interval.task.taskId}`;
    const waitMs = interval.waitFrom !== undefined ? Math.max(0, interval.start - interval.waitFrom) : 0;
    const common = { lane, ref, lastRef: ref, attempt: interval.attempt, count: 1, waitMs, narrowEnd: false };
    if (interval.waitFrom !== undefined && x(interval.start) - x(interval.waitFrom) >= 0.5) {
      add(waits, { ...common, kind: "wait", status: "wait", x0: x(interval.waitFrom), x1: x(interval.start), ms: 0 });
    }
    const x0 = x(interval.start);
    add(runs, { ...common, kind: "run", status: interval.status, x0, x1: Math.max(x0 + 1, x(interval.end)), ms: interval.end - interval.start });
  });
  return [...waits, ...runs];
}

/** The first lane free at each interval's start (intervals sorted by start); past MAX_LANES, the one free soonest. */
function assignLanes(intervals: readonly Interval[]): number[] {
  const laneEnds: number[] = [];
  return intervals.map((interval) => {
    const from = interval.waitFrom ?? interval.start;
    let lane = laneEnds.findIndex((laneEnd) => laneEnd <= from);
    if (lane === -1 && laneEnds.length < MAX_LANES) lane = laneEnds.push(0) - 1;
    if (lane === -1) lane = laneEnds.indexOf(Math.min(...laneEnds));
    laneEnds[lane] = interval.end;
    return lane;
  });
}
