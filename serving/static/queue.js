// The biller's work queue: score a file (or show the last batch), sort, filter, search, open a
// claim's reasons, mark it worked, dispute a reason, export or print what is shown.
"use strict";

// A what-if is shown only when the fix lowers the risk band or cuts the denial probability by
// at least this much (10 percentage points): 98.3% -> 97.5% is not a fix worth a biller's time.
const MEANINGFUL_CUT = 0.10;
// A reason's strength from its contribution in log-odds: at 1.0 it multiplies the odds of denial
// by 2.7 or more ("strong"); at 0.5, by 1.65 ("moderate"); below, "minor".
const STRONG = 1.0;
const MODERATE = 0.5;
const STATUS_WORDS = {open: "open", fixed: "fixed", sent_as_is: "sent as is"};
const BAND_RANK = {low: 0, medium: 1, high: 2, unscored: 3};  // a claim that could not be read first
// Rows drawn at a time: 10,000 rows take a second to draw; a biller works from the top.
const PAGE_ROWS = 500;

const $ = (id) => document.getElementById(id);
const state = {rows: [], bands: null, sort: {key: "dollars", dir: -1}, open: new Set(), limit: PAGE_ROWS};

// The key lives in this tab's sessionStorage only; a key the old page left in localStorage goes.
localStorage.removeItem("claimrisk.key");
const keyInput = $("key");
keyInput.value = sessionStorage.getItem("claimrisk.key") || "";
keyInput.addEventListener("change", () => sessionStorage.setItem("claimrisk.key", keyInput.value));

const money = (v) => v.toLocaleString("en-US", {style: "currency", currency: "USD"});
const pct = (v) => (100 * v).toFixed(1) + "%";
const words = (category) => category.replaceAll("_", " ");
const localTime = (iso) => new Date(iso).toLocaleString([], {dateStyle: "medium", timeStyle: "short"});  // the biller's clock

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  });
  children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c))));
  return node;
}

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
  $("status").setAttribute("role", error ? "alert" : "status");
}

async function call(path, options = {}) {
  const headers = Object.assign({"X-API-Key": keyInput.value}, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, {headers}));
  const body = await response.json().catch(() => ({detail: response.statusText}));
  if (!response.ok) {
    const detail = Array.isArray(body.detail)
      ? body.detail.slice(0, 10).map((d) => (d.line ? "line " + d.line + ": " : "") + (d.loc || []).join(".") + " " + d.msg).join("\n")
      : body.detail;
    throw new Error(response.status + ": " + detail);
  }
  return body;
}

// --- what a reason means to a biller --------------------------------------------------------

const logit = (p) => Math.log(p / (1 - p));
const sigmoid = (x) => 1 / (1 + Math.exp(-x));

function strength(reason, probability) {
  const p = Math.min(Math.max(probability, 1e-6), 1 - 1e-6);
  const points = Math.round(100 * (p - sigmoid(logit(p) - reason.contribution)));
  const word = reason.contribution >= STRONG ? "strong" : reason.contribution >= MODERATE ? "moderate" : "minor";
  return word + " reason, adds about " + points + " points to the denial chance";
}

function bandOf(probability) {
  if (!state.bands) return null;
  return probability >= state.bands.high ? "high" : probability >= state.bands.medium ? "medium" : "low";
}

function worthShowing(whatIf, row) {
  if (!whatIf) return false;
  const after = bandOf(whatIf.denial_probability);
  const lowersBand = after !== null && BAND_RANK[after] < BAND_RANK[row.band];
  return lowersBand || row.probability - whatIf.denial_probability >= MEANINGFUL_CUT;
}

// --- the rows ---------------------------------------------------------------------------------

function toRows(batch) {
  const claims = batch.claims || [];
  return batch.results.map((r, i) => {
    const c = claims[i] || {};
    if (r.problems) return unreadRow(r);
    const reasons = r.reasons || [];
    return {
      claim_id: r.claim_id, result: r,
      service_date: c.service_date || "", payer: c.payer_name || c.payer_id || "",
      payer_id: c.payer_id || "", codes: (c.procedure_codes || []).join(" "),
      charge: c.total_charge ?? 0, band: r.risk_band, probability: r.denial_probability,
      dollars: r.expected_denied_dollars,
      reason: reasons.length ? reasons[0].title : (r.reasons ? "none" : "not explained"),
      categories: reasons.map((x) => x.category),
      status: "open", who: null, at: null,
    };
  });
}

function problemText(p) {
  return (p.line ? "line " + p.line + ": " : "") + (p.loc || []).join(".") + " " + p.msg;
}

function unreadRow(r) {
  // A claim the upload could not read: its problems, in its place, so nothing is lost.
  return {
    claim_id: r.claim_id || "line " + r.line, result: r, service_date: "", payer: "", payer_id: "",
    codes: "", charge: 0, band: "unscored", probability: null, dollars: 0,
    reason: "not scored: " + r.problems.slice(0, 2).map(problemText).join("; "),
    categories: [], status: "open", who: null, at: null,
  };
}

function filtered() {
  const text = $("search").value.trim().toLowerCase();
  const band = $("f-band").value, payer = $("f-payer").value, category = $("f-category").value;
  const status = $("f-status").value, from = $("f-from").value, to = $("f-to").value;
  const dollars = parseFloat($("f-dollars").value);
  const rows = state.rows.filter((r) =>
    (!band || r.band === band) && (!payer || r.payer === payer) &&
    (!category || r.categories.includes(category)) && (!status || r.status === status) &&
    (isNaN(dollars) || r.dollars >= dollars) && (!from || r.service_date >= from) &&
    (!to || r.service_date <= to) &&
    (!text || [r.claim_id, r.payer, r.payer_id, r.codes, r.reason].join(" ").toLowerCase().includes(text)));
  const {key, dir} = state.sort;
  const value = (r) => key === "band" ? BAND_RANK[r.band] : r[key];
  return rows.sort((a, b) => (value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : 0) * dir || b.dollars - a.dollars);
}

function statusText(row) {
  return row.status === "open" ? "open" : STATUS_WORDS[row.status] + " · " + row.who + " · " + localTime(row.at);
}

function details(row, colspan) {
  const r = row.result;
  const cell = el("td", {colspan});
  if (r.problems) {
    cell.append(el("p", {}, "This claim could not be read, so it was not scored. Correct it and upload it again:"),
      el("ul", {}, ...r.problems.map((p) => el("li", {}, problemText(p)))));
    return el("tr", {class: "details"}, cell);
  }
  const reasons = r.reasons || [];
  if (!r.reasons) cell.append(el("p", {class: "muted"}, "Reasons were not requested for this claim."));
  else if (!reasons.length) cell.append(el("p", {class: "muted"}, "No reason stands out: nothing to fix."));
  reasons.forEach((reason) => {
    const box = el("div", {class: "reason"},
      el("h3", {}, reason.title),
      el("p", {class: "strength"}, words(reason.category) + ": " + strength(reason, r.denial_probability)),
      el("ul", {}, reason.evidence.map((e) => el("li", {}, e))),
      el("p", {class: "action"}, el("b", {}, "What to do: "), reason.action));
    if (worthShowing(reason.what_if, row)) {
      box.append(el("p", {class: "whatif"}, "With " + reason.what_if.fix + ": denial chance " +
        pct(r.denial_probability) + " → " + pct(reason.what_if.denial_probability)));
    }
    box.append(disagreeForm(row, reason));
    cell.append(box);
  });
  if (r.not_checked.length) cell.append(el("p", {class: "muted"}, "Not checked (the file had no such context): " + r.not_checked.map(words).join(", ")));
  cell.append(statusForm(row));
  return el("tr", {class: "details"}, cell);
}

// The claim's overrides, asked once per claim when it is first opened: category -> override.
function disputesOf(row) {
  if (!row.disputes) {
    row.disputes = call("/v1/claims/" + encodeURIComponent(row.claim_id) + "/overrides")
      .then((found) => new Map(found.map((o) => [o.category, o])))
      .catch(() => new Map());
  }
  return row.disputes;
}

function disputed(override) {
  return el("p", {class: "recorded"}, "Disputed by " + override.who + " on " + localTime(override.recorded_at) +
    (override.note ? ": " + override.note : "") + ". It goes to the next model review.");
}

function disagreeForm(row, reason) {
  const box = el("div", {class: "no-print"});
  const id = "note-" + row.claim_id + "-" + reason.category;
  const note = el("input", {id, type: "text", maxlength: "500", placeholder: "e.g. the payer does not require it"});
  const form = el("form", {class: "disagree"},
    el("label", {for: id}, "Disagree with this reason? Say why (no patient details)"), note,
    el("button", {type: "submit"}, "Record disagreement"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const saved = await call("/v1/claims/" + encodeURIComponent(row.claim_id) + "/overrides", {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({category: reason.category, note: note.value || null})});
      (await disputesOf(row)).set(reason.category, saved);
      box.replaceChildren(disputed(saved));
      setStatus("Your disagreement with claim " + row.claim_id + "'s " + words(reason.category) + " reason is recorded.");
    } catch (error) { setStatus(error.message, true); }
  });
  disputesOf(row).then((found) => box.replaceChildren(found.has(reason.category) ? disputed(found.get(reason.category)) : form));
  return box;
}

function statusForm(row) {
  const box = el("div", {class: "status-buttons no-print", role: "group", "aria-label": "Status of claim " + row.claim_id});
  box.append(el("span", {}, "Status: " + statusText(row) + " "));
  [["fixed", "Mark fixed"], ["sent_as_is", "Sent as is"], ["open", "Reopen"]].forEach(([value, label]) => {
    if (value !== row.status) box.append(el("button", {type: "button", onclick: () => mark(row, value)}, label));
  });
  return box;
}

async function mark(row, value) {
  try {
    const saved = await call("/v1/claims/" + encodeURIComponent(row.claim_id) + "/status", {
      method: "PUT", headers: {"Content-Type": "application/json"}, body: JSON.stringify({status: value})});
    Object.assign(row, {status: saved.status, who: saved.who, at: saved.at});
    render();
    setStatus("Claim " + row.claim_id + ": " + STATUS_WORDS[saved.status] + ".");
    document.querySelector('[data-open="' + CSS.escape(row.claim_id) + '"]')?.focus();
  } catch (error) { setStatus(error.message, true); }
}

function render() {
  const rows = filtered();
  const body = $("queue").querySelector("tbody");
  const colspan = $("queue").querySelectorAll("thead th").length;
  body.replaceChildren();
  rows.slice(0, state.limit).forEach((row) => {
    const open = state.open.has(row.claim_id);
    const toggle = el("button", {type: "button", class: "open", "data-open": row.claim_id, "aria-expanded": String(open),
      onclick: () => { open ? state.open.delete(row.claim_id) : state.open.add(row.claim_id); render(); toggleFocus(row.claim_id); }},
      row.claim_id);
    body.append(el("tr", {class: "claim " + row.status, "data-claim": row.claim_id},
      el("th", {scope: "row", "data-label": "Claim"}, toggle),
      el("td", {class: "date", "data-label": "Service date"}, row.service_date),
      el("td", {"data-label": "Payer"}, row.payer),
      el("td", {"data-label": "CPT"}, row.codes),
      el("td", {class: "num", "data-label": "Charge"}, money(row.charge)),
      el("td", {"data-label": "Risk"}, el("span", {class: "band " + row.band}, row.band)),
      el("td", {class: "num", "data-label": "Denial chance"}, row.probability === null ? "—" : pct(row.probability)),
      el("td", {class: "num", "data-label": "Expected denied"}, money(row.dollars)),
      el("td", {"data-label": "Top reason"}, row.reason),
      el("td", {class: "state", "data-label": "Status"}, statusText(row))));
    if (open) body.append(details(row, colspan));
  });
  if (rows.length > state.limit) {
    body.append(el("tr", {class: "more no-print"}, el("td", {colspan},
      el("button", {type: "button", onclick: () => { state.limit += PAGE_ROWS; render(); }},
        "Show " + Math.min(PAGE_ROWS, rows.length - state.limit) + " more"))));
  }
  $("queue").querySelectorAll("thead th").forEach((th) => {
    if (th.dataset.key === state.sort.key) th.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  });
  const drawn = Math.min(rows.length, state.limit);
  $("shown").textContent = (drawn < rows.length ? "Showing the first " + drawn + " of " + rows.length + " matching; " : rows.length + " of ") +
    state.rows.length + " claims" + (drawn < rows.length ? " (export takes all matching)" : " shown");
  return rows;
}

function toggleFocus(claimId) {
  document.querySelector('[data-open="' + CSS.escape(claimId) + '"]')?.focus();
}

function summary(rows) {
  const count = (band) => rows.filter((r) => r.band === band).length;
  const dollars = rows.reduce((s, r) => s + r.dollars, 0);
  $("summary").replaceChildren(
    el("div", {class: "stat"}, el("b", {}, rows.length), "claims"),
    ...(count("unscored") ? [el("div", {class: "stat"}, el("b", {}, count("unscored")), "not scored")] : []),
    el("div", {class: "stat"}, el("b", {}, count("high")), "high risk"),
    el("div", {class: "stat"}, el("b", {}, count("medium")), "medium risk"),
    el("div", {class: "stat"}, el("b", {}, money(dollars)), "expected denied"));
}

function options(select, values, label = (v) => v) {
  select.replaceChildren(el("option", {value: ""}, "all"), ...values.map((v) => el("option", {value: v}, label(v))));
}

function clearQueue() {
  state.rows = [];
  state.open.clear();
  $("queue").querySelector("tbody").replaceChildren();
  $("summary").replaceChildren();
  $("work").hidden = true;
}

async function show(batch) {
  state.rows = toRows(batch);
  state.open.clear();
  state.limit = PAGE_ROWS;
  options($("f-payer"), [...new Set(state.rows.map((r) => r.payer))].sort());
  options($("f-category"), [...new Set(state.rows.flatMap((r) => r.categories))].sort(), words);
  summary(state.rows);
  $("work").hidden = false;
  setStatus("Model " + batch.model.name + " version " + batch.model.version + ". Open a claim for its reasons.");
  await Promise.all([loadStatuses(), loadBands()]);
  render();
}

async function loadStatuses() {
  if (!state.rows.length) return;
  try {
    const found = await call("/v1/claims/statuses", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({claim_ids: state.rows.map((r) => r.claim_id)})});
    const byId = new Map(found.map((s) => [s.claim_id, s]));
    state.rows.forEach((r) => Object.assign(r, byId.get(r.claim_id) ? {status: byId.get(r.claim_id).status, who: byId.get(r.claim_id).who, at: byId.get(r.claim_id).at} : {}));
  } catch (error) { setStatus("Statuses could not be loaded: " + error.message, true); }
}

async function loadBands() {
  try { state.bands = (await call("/v1/model")).bands; } catch (error) { state.bands = null; }
}

// --- export and print ---------------------------------------------------------------------------

const CSV_COLUMNS = [
  ["claim_id", "claim_id"], ["service_date", "service_date"], ["payer", "payer"], ["payer_id", "payer_id"],
  ["codes", "cpt_codes"], ["charge", "charge"], ["band", "risk_band"], ["probability", "denial_probability"],
  ["dollars", "expected_denied_dollars"], ["reason", "top_reason"], ["status", "status"], ["who", "status_by"], ["at", "status_at"],
];

function csvCell(value) {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;  // a spreadsheet must not run a cell as a formula
  return /[",\r\n]/.test(text) ? '"' + text.replaceAll('"', '""') + '"' : text;
}

function exportCsv() {
  const rows = filtered();
  const lines = [CSV_COLUMNS.map(([, name]) => name).join(",")].concat(
    rows.map((r) => CSV_COLUMNS.map(([key]) => csvCell(key === "probability" ? r[key].toFixed(4) : key === "dollars" || key === "charge" ? r[key].toFixed(2) : r[key])).join(",")));
  const blob = new Blob([lines.join("\r\n") + "\r\n"], {type: "text/csv"});
  const link = el("a", {href: URL.createObjectURL(blob), download: "claimrisk-queue.csv"});
  document.body.append(link);
  link.click();
  link.remove();
  setStatus("Exported " + rows.length + " claims as CSV.");
}

// --- wiring ---------------------------------------------------------------------------------------

$("upload").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("file").files[0];
  if (!file) return setStatus("Choose a file first.", true);
  const format = file.name.toLowerCase().endsWith(".csv") ? "csv" : "jsonl";
  clearQueue();  // a failed upload must not leave the previous queue under its error
  setStatus("Scoring " + file.name + " ...");
  try {  // raw bytes: the server knows the encodings files come in
    await show(await call("/v1/claims/score-upload?format=" + format, {method: "POST", headers: {"Content-Type": "text/plain"}, body: file}));
  } catch (error) { clearQueue(); setStatus(error.message, true); }
});
async function showLast(quiet) {
  try { await show(await call("/v1/claims/last-batch")); } catch (error) {
    clearQueue();
    if (!quiet) setStatus(error.message, true);
  }
}
$("last").addEventListener("click", () => showLast(false));
$("queue").querySelectorAll("thead th").forEach((th) => th.querySelector("button").addEventListener("click", () => {
  const key = th.dataset.key;
  state.sort = {key, dir: state.sort.key === key ? -state.sort.dir : (["claim_id", "service_date", "payer", "codes", "reason", "status"].includes(key) ? 1 : -1)};
  refilter();
}));
function refilter() { state.limit = PAGE_ROWS; render(); }
let typing = null;
$("search").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(refilter, 150); });
["f-band", "f-payer", "f-category", "f-status", "f-dollars", "f-from", "f-to"].forEach((id) => $(id).addEventListener("input", refilter));
$("filters").addEventListener("submit", (event) => event.preventDefault());
$("filters").addEventListener("reset", () => setTimeout(refilter));
$("export").addEventListener("click", exportCsv);
$("print").addEventListener("click", () => window.print());
if (keyInput.value) showLast(true);  // back in the same tab: the last batch, statuses as kept
