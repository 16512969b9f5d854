// The dashboard page: every panel is drawn from the JSON API; a server-sent `log` event says the
// event log grew, and the page fetches what changed. The step slider asks for the same answers
// `?step=k`, so a recorded campaign can be walked through measurement by measurement.
"use strict";

const view = { step: null, follow: true, nSteps: 0, state: null, observations: null, model: null,
  spectra: null, objective: null, drawnStep: -1, busy: false, again: false, lastSeq: -1 };
const COLORS = "Viridis";
const PLOT_CONFIG = { displaylogo: false, responsive: true };

const $ = (id) => document.getElementById(id);
const fmt = (v, digits = 3) => (v === null || v === undefined ? "–" : Number(v).toPrecision(digits));

function seconds(s) {
  if (s === null || s === undefined) return "–";
  if (s < 90) return `${s.toFixed(0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(0)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

async function getJSON(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function query() { return view.step === null ? "" : `?step=${view.step}`; }

// -- refresh ---------------------------------------------------------------------------------
async function refresh() {
  if (view.busy) { view.again = true; return; }
  view.busy = true;
  try {
    do {
      view.again = false;
      const q = query();
      const [state, observations, spectra] = await Promise.all([
        getJSON(`/api/state${q}`), getJSON(`/api/observations${q}`), getJSON(`/api/spectra${q}`)]);
      view.state = state; view.observations = observations; view.spectra = spectra;
      view.nSteps = state.n_steps;
      drawHeader(state); drawStepper(); drawControls(state);
      drawObjectives(observations, state); drawSpectra(spectra);
      await refreshEvents();
      const model = await getJSON(`/api/model${q}`);
      view.model = model;
      drawTernaries(state, observations, model);
      view.drawnStep = state.n_observations;
      document.body.dataset.drawnObservations = String(state.n_observations);
    } while (view.again);
  } catch (error) {
    $("control-message").textContent = `could not refresh: ${error.message}`;
  } finally {
    view.busy = false;
  }
}

async function refreshEvents() {
  const q = view.step === null ? "" : `&step=${view.step}`;
  const data = await getJSON(`/api/events?since=-1&limit=300${q}`);
  const body = $("events").querySelector("tbody");
  body.replaceChildren(...data.events.reverse().map(eventRow));
  view.lastSeq = data.last_seq;
}

function eventRow(event) {
  const row = document.createElement("tr");
  if (event.type === "Faulted") row.className = "fault";
  if (event.type === "Controlled" || event.type === "Paused") row.className = "control";
  const when = new Date(event.time * 1000).toLocaleTimeString();
  for (const text of [event.seq, when, event.type, event.summary]) {
    const cell = document.createElement("td");
    cell.textContent = String(text);
    row.appendChild(cell);
  }
  return row;
}

// -- header, stepper, controls -----------------------------------------------------------------
function drawHeader(s) {
  $("campaign").textContent = s.campaign;
  $("campaign").title = s.description;
  $("status").textContent = s.status;
  $("status").className = `badge ${s.status}`;
  $("live").className = `live ${s.live ? "on" : "off"}`;
  $("budget").textContent = `${s.n_observations} / ${s.budget}`;
  $("budget-bar").value = s.budget ? s.n_observations / s.budget : 0;
  $("eta").textContent = seconds(s.eta_seconds);
  $("duty").textContent = !s.real_time
    ? "simulated time"
    : s.duty_cycle === null
      ? "–"
      : `${(100 * s.duty_cycle).toFixed(0)} %`;
  $("decision").textContent = s.decision_seconds_last === null ? "–"
    : `${s.decision_seconds_last.toFixed(2)} s (median ${s.decision_seconds_median.toFixed(2)} s)`;
  const kinds = Object.entries(s.faults_by_kind).map(([k, n]) => `${k} ${n}`).join(", ");
  $("faults").textContent = s.n_faults ? `${s.n_faults} (${kinds})` : "0";
  $("faults").className = s.n_faults ? "some" : "";
  const surrogates = Object.entries(s.surrogates || {}).map(([k, v]) => `${k}: ${v}`).join("; ");
  $("model-id").textContent = s.model_id ? (surrogates ? `${s.model_id} — ${surrogates}` : s.model_id) : "–";
  drawBest(s);
  $("reason").textContent = s.status === "interrupted"
    ? "its process ended before the campaign did: `junkan resume STORE` continues it"
    : s.pause_reason || s.finish_reason || "";
  const select = $("objective");
  if (!select.options.length) {
    for (const o of s.objectives) select.add(new Option(`${o.name} (${o.goal})`, o.name));
    view.objective = s.objectives[0].name;
  }
}

// the best condition by the model (or by its readings when there is none) beside the best single reading
function drawBest(s) {
  const best = s.best_by_model;
  const name = s.objectives[0].name;
  const units = s.objectives[0].units ? ` ${s.objectives[0].units}` : "";
  const top = best.best;
  $("best-label").textContent = best.by === "model" ? "best (model)" : "best (readings)";
  $("best-label").title = best.reason;
  $("best").textContent = top && name in top.mean
    ? `${fmt(top.mean[name], 4)} ± ${fmt(top.sd[name], 2)}${units} (measured ${top.n_measured === 1 ? "once" : `${top.n_measured}x`})`
    : "–";
  const reading = s.best_reading;
  $("best-reading").textContent = reading
    ? `${fmt(reading.values[name], 4)} ± ${fmt(Math.sqrt(Math.max(reading.variances[name], 0)), 2)}${units} (one reading)`
    : "–";
}

function drawStepper() {
  const slider = $("step");
  slider.max = String(view.nSteps);
  if (view.follow) slider.value = String(view.nSteps);
  $("step-label").textContent = `${view.follow ? view.nSteps : view.step} / ${view.nSteps}`;
}

function drawControls(s) {
  const fields = $("inject-fields");
  if (!fields.children.length) {
    for (const element of s.elements) {
      const input = document.createElement("input");
      input.type = "number"; input.step = "0.01"; input.min = "0"; input.max = "1";
      input.placeholder = element; input.dataset.element = element; input.title = `${element} fraction`;
      fields.appendChild(input);
    }
  }
  const approvals = $("approvals");
  approvals.replaceChildren();
  for (const p of s.pending.filter((p) => p.awaiting_approval)) {
    for (const command of ["approve", "reject"]) {
      const button = document.createElement("button");
      button.textContent = `${command} ${p.proposal_id}`;
      button.addEventListener("click", () => control({ command, proposal_id: p.proposal_id }));
      approvals.appendChild(button);
    }
  }
}

async function control(body) {
  const message = $("control-message");
  const token = $("token").value.trim();
  sessionStorage.setItem("junkan-token", token);
  const response = await fetch("/api/control", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  message.className = response.ok ? "message" : "message error";
  message.textContent = response.ok ? `${body.command}: ${data.message}`
    : `${body.command} refused (${response.status}): ${typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)}`;
}

// -- plots ----------------------------------------------------------------------------------
function ternaryLayout(state, title) {
  const [a, b, c] = state.elements;
  const lower = [a, b, c].map((e) => state.space[e][0]);
  const zoom = lower.reduce((x, y) => x + y, 0) < 0.95;
  const axis = (name, min) => ({ title: { text: name }, min: zoom ? min : 0, ticks: "outside" });
  return {
    margin: { l: 40, r: 40, t: 30, b: 45 },
    ternary: { sum: 1, aaxis: axis(a, lower[0]), baxis: axis(b, lower[1]), caxis: axis(c, lower[2]) },
    showlegend: true, legend: { x: 1, xanchor: "right", y: 1.08, bgcolor: "rgba(255,255,255,0.7)" },
    annotations: title ? [{ text: title, showarrow: false, x: 0, y: 1.08, xref: "paper", yref: "paper" }] : [],
  };
}

function drawTernaries(state, observations, model) {
  const name = view.objective;
  const [a, b, c] = state.elements;
  if (state.elements.length !== 3) {
    for (const id of ["ternary-mean", "ternary-sd", "ternary-noise"]) {
      Plotly.react(id, [], { annotations: [{ text: "the ternary view needs three elements", showarrow: false }] }, PLOT_CONFIG);
    }
    return;
  }
  const measured = observations.observations;
  const spots = {
    type: "scatterternary", mode: "markers", name: "measured",
    a: measured.map((o) => o.condition[a]), b: measured.map((o) => o.condition[b]), c: measured.map((o) => o.condition[c]),
    text: measured.map((o) => `${o.proposal_id}: ${name} ${fmt(o.values[name], 4)}`),
    marker: { size: 10, color: measured.map((o) => o.values[name]), colorscale: COLORS, line: { width: 1.5, color: "#000" } },
    hoverinfo: "text",
  };
  const pending = {
    type: "scatterternary", mode: "markers", name: "pending",
    a: state.pending.map((p) => p.condition[a]), b: state.pending.map((p) => p.condition[b]), c: state.pending.map((p) => p.condition[c]),
    text: state.pending.map((p) => `${p.proposal_id} (${p.reason})`), hoverinfo: "text",
    marker: { symbol: "x", size: 12, color: "#d62728", line: { width: 1 } },
  };
  const surface = (values, title, colorscale) => ({
    type: "scatterternary", mode: "markers", name: title, showlegend: false,
    a: model.grid[a], b: model.grid[b], c: model.grid[c], hoverinfo: "text",
    text: values.map((v) => `${title} ${fmt(v, 3)}`),
    marker: { size: 6, symbol: "hexagon", color: values, colorscale, opacity: 0.85,
      colorbar: { title: { text: title }, len: 0.8, thickness: 12 } },
  });
  const note = model.available ? `${model.model_id} on ${model.n_train} measurements` : model.reason;
  const outcome = model.available ? model.outcomes[name] : null;
  const mean = outcome ? [surface(outcome.mean, `${name} mean`, COLORS)] : [];
  const values = measured.map((o) => o.values[name]).concat(outcome ? outcome.mean : []);
  if (values.length) { spots.marker.cmin = Math.min(...values); spots.marker.cmax = Math.max(...values); }
  if (outcome) { mean[0].marker.cmin = spots.marker.cmin; mean[0].marker.cmax = spots.marker.cmax; }
  plot("ternary-mean", [...mean, spots, pending], ternaryLayout(state, note));
  const sd = outcome ? [surface(outcome.sd, `${name} sd`, "Magma")] : [];
  plot("ternary-sd", [...sd, { ...spots, marker: { ...spots.marker, color: "#fff", colorscale: undefined } }, pending],
    ternaryLayout(state, note));
  const noise = outcome ? [surface(outcome.noise_sd, "noise sd", "Cividis")] : [];
  plot("ternary-noise", [...noise, { ...spots, marker: { ...spots.marker, color: "#fff", colorscale: undefined } }],
    ternaryLayout(state, outcome ? `noise model: ${model.noise_model}` : note));
}

function drawObjectives(data, state) {
  const obs = data.observations;
  const names = data.objectives;
  const front = new Set(data.pareto);
  const label = (o) => `${o.proposal_id} (${o.reason})`;
  if (names.length >= 2) {
    const [x, y] = names;
    const onFront = obs.filter((o) => front.has(o.index)).sort((p, q) => p.values[x] - q.values[x]);
    plot("objective-space", [
      { type: "scatter", mode: "markers", name: "measured", x: obs.map((o) => o.values[x]), y: obs.map((o) => o.values[y]),
        error_x: { type: "data", array: obs.map((o) => o.sd[x] || 0), visible: true, thickness: 0.8 },
        error_y: { type: "data", array: obs.map((o) => o.sd[y] || 0), visible: true, thickness: 0.8 },
        text: obs.map(label), marker: { color: obs.map((o) => o.index), colorscale: "Greys", size: 8 } },
      { type: "scatter", mode: "lines+markers", name: "Pareto front", line: { shape: "hv", color: "#d62728" },
        x: onFront.map((o) => o.values[x]), y: onFront.map((o) => o.values[y]), marker: { size: 10, color: "#d62728" } },
    ], { margin: { t: 20 }, xaxis: { title: { text: x } }, yaxis: { title: { text: y } } });
    plot("progress", [{ type: "scatter", mode: "lines+markers", name: "hypervolume",
      x: data.hypervolume.map((_, i) => i + 1), y: data.hypervolume }],
    { margin: { t: 20 }, xaxis: { title: { text: "measurements" } }, yaxis: { title: { text: "hypervolume" } } });
    $("progress-caption").textContent = "Hypervolume versus measurements";
  } else {
    const [x] = names;
    // red: the best single reading; stars: the readings of the best condition by the model
    const bestIds = new Set(state.best_by_model.best ? state.best_by_model.best.proposal_ids : []);
    plot("objective-space", [
      { type: "scatter", mode: "markers", name: x, x: obs.map((o) => o.index + 1), y: obs.map((o) => o.values[x]),
        error_y: { type: "data", array: obs.map((o) => o.sd[x] || 0), visible: true }, text: obs.map(label),
        marker: { size: obs.map((o) => (bestIds.has(o.proposal_id) ? 13 : 8)),
          symbol: obs.map((o) => (bestIds.has(o.proposal_id) ? "star" : "circle")),
          color: obs.map((o) => (front.has(o.index) ? "#d62728" : "#2a6f97")) } },
    ], { margin: { t: 20 }, xaxis: { title: { text: "measurement" } }, yaxis: { title: { text: x } } });
    // the model's curve: its value, now, of the best condition among the first k measured
    const best = state.best_by_model;
    plot("progress", [
      { type: "scatter", mode: "lines", name: `best condition (${best.by === "model" ? "model" : "readings"})`,
        line: { shape: "hv", color: "#2a6f97" }, x: best.so_far.map((_, i) => i + 1), y: best.so_far },
      { type: "scatter", mode: "lines", name: "best single reading", line: { shape: "hv", dash: "dot", color: "#999" },
        x: data.best_so_far.map((_, i) => i + 1), y: data.best_so_far },
    ], { margin: { t: 20 }, legend: { orientation: "h", y: -0.25 }, xaxis: { title: { text: "measurements" } },
      yaxis: { title: { text: `best ${x}` } } });
    $("progress-caption").textContent = `Best ${x} versus measurements (by the model; single readings dotted)`;
  }
}

function waterfall(id, series, offsetShare, yTitle) {
  if (!series || !series.length) {
    plot(id, [], { annotations: [{ text: "no such measurement in this campaign", showarrow: false,
      xref: "paper", yref: "paper", x: 0.5, y: 0.5 }], xaxis: { visible: false }, yaxis: { visible: false } });
    return;
  }
  const traces = series.map((s, i) => {
    const top = Math.max(...s.y.map(Math.abs)) || 1;
    return { type: "scatter", mode: "lines", name: s.proposal_id, x: s.x,
      y: s.y.map((v) => v / top + i * offsetShare), line: { width: 1.2 } };
  });
  plot(id, traces, { margin: { t: 20 }, xaxis: { title: { text: series[0].x_label } },
    yaxis: { title: { text: yTitle } }, legend: { font: { size: 10 } } });
}

function drawSpectra(spectra) {
  waterfall("xrd", spectra.xrd_counts, 0.6, "normalised counts (offset)");
  waterfall("xafs", spectra.xafs_mu, 0.15, "normalised μ (offset)");
}

function plot(id, traces, layout) {
  const element = $(id);
  Plotly.react(element, traces, layout, PLOT_CONFIG).then(() => {
    element.dataset.rendered = String(view.state ? view.state.n_observations : 0);
    element.dataset.traces = String(traces.length);
  });
}

// -- wiring -------------------------------------------------------------------------------------
function connect() {
  const source = new EventSource("/api/stream");
  source.addEventListener("log", () => { if (view.follow) refresh(); });
  source.onerror = () => { $("live").title = "reconnecting to the dashboard…"; };
}

$("step").addEventListener("input", (e) => {
  const value = Number(e.target.value);
  view.follow = value >= view.nSteps;
  $("follow").checked = view.follow;
  view.step = view.follow ? null : value;
  refresh();
});
$("follow").addEventListener("change", (e) => {
  view.follow = e.target.checked;
  if (view.follow) view.step = null;
  refresh();
});
$("objective").addEventListener("change", (e) => {
  view.objective = e.target.value;
  if (view.state && view.observations && view.model) drawTernaries(view.state, view.observations, view.model);
});
for (const button of document.querySelectorAll("#controls button[data-command]")) {
  button.addEventListener("click", () => {
    const command = button.dataset.command;
    const body = { command };
    if (command === "inject") {
      body.condition = {};
      for (const input of $("inject-fields").querySelectorAll("input")) body.condition[input.dataset.element] = Number(input.value);
    }
    control(body);
  });
}
$("token").value = sessionStorage.getItem("junkan-token") || "";
refresh();
connect();
