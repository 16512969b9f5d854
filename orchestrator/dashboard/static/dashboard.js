// The dashboard page: every panel is drawn from the JSON API; a server-sent `log` event says the
// event log grew, and the page fetches what changed. The step slider asks for the same answers
// `?step=k`, so a recorded campaign can be walked through measurement by measurement.
"use strict";

const view = { step: null, follow: true, nSteps: 0, state: null, observations: null, model: null,
  spectra: null, objective: null, drawnStep: -1, busy: false, again: false, lastSeq: -1,
  corners: null, picks: [], slice: null };
const COLORS = "Viridis";
const OFF_PLANE = 0.02; // a measured condition farther than this from the plane is drawn faint
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
  if (!response.ok) {  // say why: a refused view names the corner or condition that does not fit
    const detail = await response.json().then((d) => d.detail).catch(() => "");
    throw new Error(`${path.split("?")[0]}: ${response.status}${typeof detail === "string" && detail ? ` ${detail}` : ""}`);
  }
  return response.json();
}

function query() { return view.step === null ? "" : `?step=${view.step}`; }

// the plane's corners and the spot the rest is held at, as /api/model takes them
function modelQuery() {
  const params = new URLSearchParams();
  if (view.step !== null) params.set("step", String(view.step));
  for (const corner of view.corners || []) params.append("corner", corner);
  const last = view.picks[view.picks.length - 1];
  if ($("spot").value === "pick" && last) params.set("at", last.text);
  const text = params.toString();
  return text ? `?${text}` : "";
}

// -- refresh ---------------------------------------------------------------------------------
async function refresh() {
  if (view.busy) { view.again = true; return; }
  view.busy = true;
  document.body.dataset.refreshing = "yes";  // watchers (and tests) read a drawn page, not half of one
  try {
    do {
      view.again = false;
      const q = query();
      const [state, observations, spectra] = await Promise.all([
        getJSON(`/api/state${q}`), getJSON(`/api/observations${q}`), getJSON(`/api/spectra${q}`)]);
      view.state = state; view.observations = observations; view.spectra = spectra;
      view.nSteps = state.n_steps;
      drawHeader(state); drawStepper(); drawControls(state);
      drawObjectives(observations, state); drawSpectra(spectra, state);
      await refreshEvents();
      const model = await getJSON(`/api/model${modelQuery()}`);
      view.model = model;
      drawPlaneBar(state, model);
      drawTernaries(state, observations, model);
      drawParallel(observations, state, model);
      await refreshSlice(state, observations);
      view.drawnStep = state.n_observations;
      document.body.dataset.drawnObservations = String(state.n_observations);
    } while (view.again);
  } catch (error) {
    $("control-message").textContent = `could not refresh: ${error.message}`;
  } finally {
    view.busy = false;
    document.body.dataset.refreshing = "no";
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
function ternaryLayout(plane, title) {
  // zoom onto the part of the triangle where there is anything to draw (a bounded region)
  const mins = ["a", "b", "c"].map((k) => {
    const values = plane[k].concat(plane.measured[k]).filter((v) => v !== null);
    return values.length ? Math.floor(100 * Math.min(...values)) / 100 : 0;
  });
  const zoom = mins.reduce((x, y) => x + y, 0) < 0.95;
  const axis = (name, min) => ({ title: { text: name }, min: zoom ? min : 0, ticks: "outside" });
  const held = Object.entries(plane.held).map(([k, v]) => `${k} ${fmt(v, 3)}`).join(", ");
  const text = [title, held ? `held: ${held}` : ""].filter(Boolean).join(" · ");
  return {
    margin: { l: 40, r: 40, t: 30, b: 45 }, hovermode: "closest",
    ternary: { sum: 1, aaxis: axis(plane.labels[0], mins[0]), baxis: axis(plane.labels[1], mins[1]),
      caxis: axis(plane.labels[2], mins[2]) },
    showlegend: true, legend: { x: 1, xanchor: "right", y: 1.08, bgcolor: "rgba(255,255,255,0.7)" },
    annotations: text ? [{ text, showarrow: false, x: 0, y: 1.08, xref: "paper", yref: "paper" }] : [],
  };
}

function conditionText(condition) {
  // names starting with "_" are the design space's own (a box table's placeholder binary)
  return Object.entries(condition).filter(([k]) => !k.startsWith("_"))
    .map(([k, v]) => `${k} ${fmt(v, 3)}`).join(" ");
}

function gridCondition(model, i) {
  return Object.fromEntries(Object.entries(model.grid).map(([k, values]) => [k, values[i]]));
}

function drawTernaries(state, observations, model) {
  const name = view.objective;
  const plane = model.plane;
  if (!plane) {
    for (const id of ["ternary-mean", "ternary-sd", "ternary-noise"]) {
      plot(id, [], { annotations: [{ text: "a plane needs three elements; the slice below still shows the model",
        showarrow: false }] });
    }
    return;
  }
  const measured = observations.observations;
  const spots = {
    type: "scatterternary", mode: "markers", name: "measured",
    a: plane.measured.a, b: plane.measured.b, c: plane.measured.c,
    text: measured.map((o, i) => `${o.proposal_id}: ${name} ${fmt(o.values[name], 4)} at ${conditionText(o.condition)}`
      + (plane.measured.off_plane[i] > OFF_PLANE ? ` (off the plane by ${fmt(plane.measured.off_plane[i], 2)}, projected)` : "")),
    // measured on the plane: solid; elsewhere (another temperature, another held fraction): faint
    marker: { size: 10, color: measured.map((o) => o.values[name]), colorscale: COLORS, line: { width: 1.5, color: "#000" },
      opacity: plane.measured.off_plane.map((d) => (d > OFF_PLANE ? 0.35 : 1)) },
    hoverinfo: "text",
  };
  const pending = {
    type: "scatterternary", mode: "markers", name: "pending",
    a: plane.pending.a, b: plane.pending.b, c: plane.pending.c,
    text: state.pending.map((p) => `${p.proposal_id} (${p.reason})`), hoverinfo: "text",
    marker: { symbol: "x", size: 12, color: "#d62728", line: { width: 1 } },
  };
  const where = plane.a.map((_, i) => conditionText(gridCondition(model, i)));
  const surface = (values, title, colorscale) => ({
    type: "scatterternary", mode: "markers", name: title, showlegend: false,
    a: plane.a, b: plane.b, c: plane.c, hoverinfo: "text",
    text: values.map((v, i) => `${title} ${fmt(v, 3)} at ${where[i]}`),
    marker: { size: 6, symbol: "hexagon", color: values, colorscale, opacity: 0.85,
      colorbar: { title: { text: title }, len: 0.8, thickness: 12 } },
  });
  const note = model.available ? `${model.model_id} on ${model.n_train} measurements` : model.reason;
  const outcome = model.available && model.outcomes ? model.outcomes[name] : null;
  const mean = outcome ? [surface(outcome.mean, `${name} mean`, COLORS)] : [];
  const values = measured.map((o) => o.values[name]).concat(outcome ? outcome.mean : []);
  if (values.length) { spots.marker.cmin = Math.min(...values); spots.marker.cmax = Math.max(...values); }
  if (outcome) { mean[0].marker.cmin = spots.marker.cmin; mean[0].marker.cmax = spots.marker.cmax; }
  plot("ternary-mean", [...mean, spots, pending], ternaryLayout(plane, note));
  const white = { ...spots, marker: { ...spots.marker, color: "#fff", colorscale: undefined } };
  const sd = outcome ? [surface(outcome.sd, `${name} sd`, "Magma")] : [];
  plot("ternary-sd", [...sd, white, pending], ternaryLayout(plane, note));
  const noise = outcome ? [surface(outcome.noise_sd, "noise sd", "Cividis")] : [];
  plot("ternary-noise", [...noise, white], ternaryLayout(plane, outcome ? `noise model: ${model.noise_model}` : note));
}

// -- the plane's corners, the slice, the parallel coordinates --------------------------------------
function drawPlaneBar(state, model) {
  const processes = Object.keys(model.grid || {}).filter((k) => !state.elements.includes(k));
  $("plane-bar").hidden = state.elements.length <= 3 && !processes.length;
  if (!model.plane) return;
  const selects = [$("corner-a"), $("corner-b"), $("corner-c")];
  if (!selects[0].options.length) {
    for (const [i, select] of selects.entries()) {
      for (const e of state.elements) select.add(new Option(e, e));
      if (i === 2) select.add(new Option("the rest (summed)", "rest"));
    }
    const [a, b, c] = model.plane.corners;
    selects[0].value = a.join(","); selects[1].value = b.join(",");
    selects[2].value = c.length === 1 ? c[0] : "rest";
  }
  const held = Object.entries(model.plane.held).map(([k, v]) => `${k} ${fmt(v, 3)}`).join(", ");
  $("held").textContent = held ? `held at ${held} (${model.plane.spot_from})` : "";
}

function chosenCorners() {
  const a = $("corner-a").value, b = $("corner-b").value, c = $("corner-c").value;
  const rest = view.state.elements.filter((e) => e !== a && e !== b);
  return [a, b, c === "rest" ? rest.join(",") : c];
}

function pick(condition, text) {
  view.picks = [...view.picks, { condition, text }].slice(-2);
  $("slice").dataset.picks = String(view.picks.length);
  if ($("spot").value === "pick" || view.picks.length === 2) refresh();
}

// two clicked points, else the best condition by the model and the latest other measurement
function sliceEnds(state, observations) {
  if (view.picks.length === 2) return view.picks.map((p) => p.text);
  const best = state.best_by_model.best;
  const measured = observations.observations;
  if (!best || !measured.length) return null;
  const other = [...measured].reverse().find((o) => !best.proposal_ids.includes(o.proposal_id));
  return other ? [best.proposal_ids[0], other.proposal_id] : null;
}

async function refreshSlice(state, observations) {
  const ends = sliceEnds(state, observations);
  if (!ends) {
    view.slice = null;
    plot("slice", [], { annotations: [{ text: "a slice needs two measured conditions", showarrow: false }] });
    return;
  }
  const params = new URLSearchParams({ start: ends[0], end: ends[1] });
  if (view.step !== null) params.set("step", String(view.step));
  view.slice = await getJSON(`/api/model/slice?${params}`);
  drawSlice(view.slice);
}

function drawSlice(slice) {
  const name = view.objective;
  const element = $("slice");
  element.dataset.ends = JSON.stringify([slice.start, slice.end]);
  $("slice-caption").textContent = `Model from ${conditionText(slice.start)} to ${conditionText(slice.end)}`;
  const near = slice.measured.filter((m) => name in m.values);
  const traces = [];
  const outcome = slice.available && slice.outcomes ? slice.outcomes[name] : null;
  if (outcome) {
    const band = (sign, scale) => outcome.mean.map((m, i) => m + sign * scale[i]);
    traces.push(
      { type: "scatter", mode: "lines", name: "mean + sd", x: slice.t, y: band(1, outcome.sd), line: { width: 0 }, showlegend: false },
      { type: "scatter", mode: "lines", name: "mean ± sd", x: slice.t, y: band(-1, outcome.sd), line: { width: 0 },
        fill: "tonexty", fillcolor: "rgba(42,111,151,0.25)" },
      { type: "scatter", mode: "lines", name: `${name} mean`, x: slice.t, y: outcome.mean, line: { color: "#2a6f97" } },
      { type: "scatter", mode: "lines", name: "± noise sd", x: slice.t, y: band(1, outcome.noise_sd),
        line: { color: "#999", dash: "dot" } },
      { type: "scatter", mode: "lines", name: "- noise sd", x: slice.t, y: band(-1, outcome.noise_sd),
        line: { color: "#999", dash: "dot" }, showlegend: false },
    );
  }
  traces.push({ type: "scatter", mode: "markers", name: `measured within ${slice.near}`, x: near.map((m) => m.t),
    y: near.map((m) => m.values[name]), error_y: { type: "data", array: near.map((m) => m.sd[name] || 0), visible: true },
    text: near.map((m) => `${m.proposal_id}, ${fmt(m.distance, 2)} from the line`), hoverinfo: "text+y",
    marker: { size: 9, color: "#d62728" } });
  plot("slice", traces, { margin: { t: 20 }, legend: { orientation: "h", y: -0.3 },
    xaxis: { title: { text: "along the line (0: start, 1: end)" }, range: [-0.02, 1.02] },
    yaxis: { title: { text: name } } });
}

function drawParallel(data, state, model) {
  const name = view.objective;
  const obs = data.observations;
  const names = Object.keys(model.grid || {}).length ? Object.keys(model.grid) : state.elements;
  const column = (get) => obs.map(get);
  const dimensions = names.map((n) => ({ label: n, values: column((o) => o.condition[n]) }))
    .concat(data.objectives.map((n) => ({ label: n, values: column((o) => o.values[n]) })));
  const color = column((o) => o.values[name]);
  plot("parallel", [{ type: "parcoords", dimensions,
    line: { color, colorscale: COLORS, showscale: true, colorbar: { title: { text: name }, thickness: 12 } } }],
  { margin: { l: 50, r: 60, t: 40, b: 20 } });
  $("parallel").dataset.dimensions = String(dimensions.length);
  $("parallel").dataset.lines = String(obs.length);
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
    plot(id, [], { annotations: [{ text: "none measured yet", showarrow: false,
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

// a campaign whose instrument keeps no patterns or spectra shows no empty panels for them
function drawSpectra(spectra, state) {
  for (const [id, name, offset, title] of [["xrd", "xrd_counts", 0.6, "normalised counts (offset)"],
    ["xafs", "xafs_mu", 0.15, "normalised μ (offset)"]]) {
    const kept = state.spectra.includes(name);
    $(id).closest("figure").hidden = !kept;
    if (kept) waterfall(id, spectra[name], offset, title);
  }
}

function plot(id, traces, layout) {
  const element = $(id);
  Plotly.react(element, traces, layout, PLOT_CONFIG).then(() => {
    element.dataset.rendered = String(view.state ? view.state.n_observations : 0);
    element.dataset.traces = String(traces.length);
    if (id === "ternary-mean" && !element.dataset.picking) { element.dataset.picking = "on"; listenForPicks(); }
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
  if (view.state && view.observations && view.model) {
    drawTernaries(view.state, view.observations, view.model);
    drawParallel(view.observations, view.state, view.model);
    if (view.slice) drawSlice(view.slice);
  }
});
for (const id of ["corner-a", "corner-b", "corner-c"]) {
  $(id).addEventListener("change", () => { view.corners = chosenCorners(); refresh(); });
}
$("spot").addEventListener("change", () => refresh());
// a click on the mean's plane picks a condition: a measured spot by its id, a model point as it is
function listenForPicks() {
  $("ternary-mean").on("plotly_click", (event) => {
    const point = event.points[0];
    const trace = point.data.name;
    if (trace === "measured") {
      const o = view.observations.observations[point.pointNumber];
      pick(o.condition, o.proposal_id);
    } else if (trace && trace.endsWith(" mean")) {
      const condition = gridCondition(view.model, point.pointNumber);
      pick(condition, Object.entries(condition).map(([k, v]) => `${k}=${v}`).join(","));
    }
  });
}
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
