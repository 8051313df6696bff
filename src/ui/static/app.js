// @ts-check
// flowrun ui's only script: follows live updates (server-sent events), searches logs, opens
// artifact previews, and explains timeline bars. Pages are complete without it.
"use strict";

/** @param {string} url */
async function fetchFragment(url) {
  const response = await fetch(url, { headers: { accept: "text/html" } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.text();
}

function followRun() {
  const head = document.querySelector(".run-head[data-events]");
  if (!(head instanceof HTMLElement) || head.dataset.runStatus !== "running") return;
  const events = new EventSource(/** @type {string} */ (head.dataset.events));
  const timeline = document.getElementById("timeline");
  let timelineDue = false;
  const refreshTimeline = () => {
    if (!timeline || timelineDue) return;
    timelineDue = true;
    setTimeout(async () => {
      timelineDue = false;
      try {
        timeline.innerHTML = await fetchFragment(/** @type {string} */ (timeline.dataset.src));
      } catch {
        // the next state event tries again
      }
    }, 1000);
  };
  events.addEventListener("state", (event) => {
    const state = JSON.parse(/** @type {MessageEvent} */ (event).data);
    const badge = document.querySelector("#run-status .status");
    if (badge) {
      badge.textContent = state.status;
      badge.className = `status status-${state.status}`;
    }
    head.dataset.runStatus = state.status;
    const took = document.getElementById("run-took");
    if (took) took.textContent = state.took;
    for (const step of state.steps) {
      const node = document.querySelector(`g.step[data-step="${CSS.escape(step.name)}"]`);
      if (!node) continue;
      node.setAttribute("class", `step state-${step.state}`);
      const counts = node.querySelector(".counts");
      if (counts) counts.textContent = step.counts;
    }
    refreshTimeline();
  });
  events.addEventListener("end", () => events.close());
}

function followTask() {
  const head = document.querySelector(".task-head[data-events]");
  if (!(head instanceof HTMLElement)) return;
  const events = new EventSource(/** @type {string} */ (head.dataset.events));
  events.addEventListener("log", (event) => {
    const { stream, text } = JSON.parse(/** @type {MessageEvent} */ (event).data);
    const pre = document.getElementById(`log-${stream}`);
    if (!pre) return;
    pre.classList.remove("empty-log");
    pre.parentElement?.querySelector(".log-empty")?.remove();
    appendLog(pre, String(text));
    applySearch(/** @type {HTMLInputElement | null} */ (document.querySelector(`.log-search[data-target="log-${stream}"]`)));
  });
  events.addEventListener("card", async () => {
    const card = document.getElementById("card");
    if (!card) return;
    card.innerHTML = await fetchFragment(/** @type {string} */ (card.dataset.src));
    card.closest("section")?.removeAttribute("hidden");
  });
  events.addEventListener("status", (event) => {
    const { status } = JSON.parse(/** @type {MessageEvent} */ (event).data);
    const badge = document.querySelector("#task-status .status");
    if (badge) {
      badge.textContent = status;
      badge.className = `status status-${status}`;
    }
  });
  // The task ended: the page as it is now has its artifacts and card.
  events.addEventListener("end", () => {
    events.close();
    location.reload();
  });
}

/**
 * Adds output to a log pane, line by line. A chunk may end mid-line (`data-open` says the
 * pane's last line is unfinished): its rest arrives with the next chunk.
 * @param {HTMLElement} pre @param {string} text
 */
function appendLog(pre, text) {
  const pieces = text.split("\n");
  const endsLine = pieces.at(-1) === "";
  if (endsLine) pieces.pop();
  pieces.forEach((piece, i) => {
    const last = pre.lastElementChild;
    if (i === 0 && last && pre.dataset.open === "1") last.textContent += piece;
    else {
      const line = document.createElement("div");
      line.className = "line";
      line.textContent = piece;
      pre.append(line);
    }
  });
  if (endsLine) pre.dataset.open = "0";
  else if (pieces.length > 0) pre.dataset.open = "1";
}

/** @param {HTMLInputElement | null} input */
function applySearch(input) {
  if (!input) return;
  const pre = document.getElementById(/** @type {string} */ (input.dataset.target));
  if (!pre) return;
  const query = input.value.toLowerCase();
  let matches = 0;
  for (const line of pre.querySelectorAll(".line")) {
    const hit = query === "" || (line.textContent ?? "").toLowerCase().includes(query);
    line.classList.toggle("hidden", !hit);
    line.classList.toggle("match", hit && query !== "");
    if (hit && query !== "") matches++;
  }
  const count = input.parentElement?.querySelector(".log-matches");
  if (count) count.textContent = query === "" ? "" : `${matches} matching line${matches === 1 ? "" : "s"}`;
}

function searchLogs() {
  for (const input of document.querySelectorAll(".log-search")) {
    input.addEventListener("input", () => applySearch(/** @type {HTMLInputElement} */ (input)));
  }
}

function openPreviews() {
  for (const details of document.querySelectorAll("details.preview[data-src]")) {
    details.addEventListener("toggle", async () => {
      if (!(details instanceof HTMLDetailsElement) || !details.open || details.dataset.loaded) return;
      details.dataset.loaded = "1";
      const body = details.querySelector(".preview-body");
      if (!body) return;
      try {
        body.innerHTML = await fetchFragment(/** @type {string} */ (details.dataset.src));
      } catch (error) {
        body.textContent = `preview failed: ${/** @type {Error} */ (error).message}`;
      }
    });
  }
}

function explainTimeline() {
  const tip = document.createElement("div");
  tip.className = "tip";
  tip.hidden = true;
  document.body.append(tip);
  const runPath = location.pathname.split("/").slice(0, 4).join("/");
  document.addEventListener("mouseover", (event) => {
    const bar = event.target instanceof Element ? event.target.closest("rect.bar") : null;
    if (!bar) return void (tip.hidden = true);
    const ms = Number(bar.getAttribute("data-ms") ?? 0);
    const wait = Number(bar.getAttribute("data-wait-ms") ?? 0);
    const count = Number(bar.getAttribute("data-count") ?? 1);
    const waiting = bar.classList.contains("wait");
    tip.textContent = count > 1
      ? `${count} tasks from ${bar.getAttribute("data-task")}: ${waiting ? "waiting for a worker" : `ran ${Math.round(ms / count)} ms each on average`} (click: the step's tasks)`
      : `${bar.getAttribute("data-task")} attempt ${bar.getAttribute("data-attempt")}: ${waiting ? "waiting for a worker" : `ran ${ms} ms after waiting ${wait} ms`}`;
    const box = bar.getBoundingClientRect();
    tip.style.left = `${box.left + window.scrollX}px`;
    tip.style.top = `${box.bottom + window.scrollY + 4}px`;
    tip.hidden = false;
  });
  document.addEventListener("click", (event) => {
    const bar = event.target instanceof Element ? event.target.closest("rect.bar") : null;
    if (!bar) return;
    const task = /** @type {string} */ (bar.getAttribute("data-task"));
    location.href = Number(bar.getAttribute("data-count") ?? 1) > 1 ? `${runPath}/${task.split("/")[0]}` : `${runPath}/${task}?attempt=${bar.getAttribute("data-attempt")}`;
  });
}

followRun();
followTask();
searchLogs();
openPreviews();
explainTimeline();
