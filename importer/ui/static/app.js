// The workbench's few scripts: post actions with the page's CSRF token, re-render the page in
// place, the review grid (server-side pages), the check's and the push's live progress (streamed
// from the server). No framework, no build.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

function say(text, ok) {
  const m = document.getElementById("message");
  if (!m) return;
  m.textContent = text;
  m.className = "message " + (ok ? "ok" : "bad");
}

async function answer(r) {
  let body = {};
  try { body = await r.json(); } catch (e) { body = {}; }
  if (!r.ok) throw new Error(body.error || "the workbench answered " + r.status);
  return body;
}

async function post(url, data) {
  const r = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify(data || {}),
  });
  return answer(r);
}

async function getJSON(url) {
  return answer(await fetch(url, { credentials: "same-origin" }));
}

// Re-render the page's main part from the server, keeping the focus where it was.
async function swap(message) {
  const focused = document.activeElement && document.activeElement.id;
  const r = await fetch(location.href, { credentials: "same-origin" });
  const doc = new DOMParser().parseFromString(await r.text(), "text/html");
  document.getElementById("main").replaceWith(doc.getElementById("main"));
  bind();
  if (message) say(message, true);
  const again = focused && document.getElementById(focused);
  if (again) again.focus();
}

function formData(form) {
  const out = {};
  new FormData(form).forEach((v, k) => { if (typeof v === "string") out[k] = v; });
  return out;
}

// Follow long work on the server (the review's check, a push) until isEnd(state): its event stream
// (text/event-stream; each event the whole state, so a reconnected or reopened page misses nothing),
// or, if the browser has no EventSource or the stream keeps failing, its status polled. onState may
// be async: the states are taken in order. Resolves with the last state ("stopping": the server
// stopped before the work ended).
function follow(name, isEnd, onState) {
  return new Promise((resolve, reject) => {
    let chain = Promise.resolve();
    const take = (s, last) => {
      chain = chain.then(() => onState(s)).then(() => { if (last) resolve(s); }).catch(reject);
    };
    const poll = async () => {
      try {
        for (;;) {
          const s = await getJSON("/api/" + name + "/status");
          await onState(s);
          if (isEnd(s)) { resolve(s); return; }
          await new Promise((ok) => setTimeout(ok, 400));
        }
      } catch (e) { reject(e); }
    };
    if (typeof window.EventSource !== "function") { poll(); return; }
    const es = new EventSource("/api/" + name + "/events");
    let failures = 0;
    es.addEventListener("progress", (ev) => { failures = 0; take(JSON.parse(ev.data), false); });
    es.addEventListener("end", (ev) => { es.close(); take(JSON.parse(ev.data), true); });
    es.addEventListener("error", () => {
      // the browser reconnects by itself; after three failures in a row, or if it gave up, poll instead
      if (es.readyState !== EventSource.CLOSED && ++failures < 3) return;
      es.close();
      chain = chain.then(poll);
    });
  });
}

const STOPPED = "✖ The workbench has stopped (Ctrl-C in its terminal): start it again to go on.";

function busy(on) { document.body.setAttribute("aria-busy", on ? "true" : "false"); }

async function act(fn) {
  busy(true);
  try { await fn(); } catch (e) { say("✖ " + e.message, false); } finally { busy(false); }
}

async function uploadFile(file) {
  if (!file) { say("✖ Choose a file first.", false); return; }
  const bar = document.getElementById("upload-progress");
  if (bar) { bar.hidden = false; bar.removeAttribute("value"); }
  const r = await fetch("/api/upload", {
    method: "POST", credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf(), "X-Filename": encodeURIComponent(file.name), "Content-Type": "application/octet-stream" },
    body: file,
  });
  const body = await answer(r);
  await swap(body.ok ? "✔ " + file.name + " read." : "");
}

// A column picker applies its choice at once when picked with the mouse. From the keyboard, Chrome
// fires "change" on every arrow key of a closed list: each would remap, check and redraw the page,
// so a keyed choice waits for Enter, for the focus to leave, or for a pause of PICK_PAUSE_MS.
const PICK_PAUSE_MS = 1500;

function bindPicker(s) {
  let keyed = 0, timer = null, applied = s.value;
  const apply = () => {
    clearTimeout(timer);
    timer = null;
    if (s.value === applied || s.value === "__keep__") return;
    applied = s.value;
    act(async () => {
      await post("/api/mapping/field", { part: s.dataset.part, field: s.dataset.field, column: s.value });
      await swap("✔ " + (s.dataset.part ? s.dataset.part + " " : "") + s.dataset.field + ": " + (s.value || "not mapped"));
    });
  };
  s.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); apply(); } else keyed = Date.now();
  });
  s.addEventListener("change", () => {
    if (Date.now() - keyed < 250) {
      clearTimeout(timer);
      timer = setTimeout(apply, PICK_PAUSE_MS);
    } else apply();
  });
  s.addEventListener("blur", () => { if (timer) apply(); });
}

function bind() {
  document.querySelectorAll("form[data-api]").forEach((f) => f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(async () => {
      await post(f.dataset.api, formData(f));
      if (f.dataset.next) location.href = f.dataset.next; else await swap("✔ Done.");
    });
  }));
  document.querySelectorAll("form[data-upload]").forEach((f) => f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(async () => {
      const r = await fetch(f.dataset.upload, {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf() }, body: new FormData(f),
      });
      await answer(r);
      await swap("✔ Mapping read.");
    });
  }));
  const up = document.getElementById("upload-form");
  if (up) {
    const input = document.getElementById("file");
    up.addEventListener("submit", (ev) => { ev.preventDefault(); act(() => uploadFile(input.files[0])); });
    input.addEventListener("change", () => act(() => uploadFile(input.files[0])));
    up.addEventListener("dragover", (ev) => { ev.preventDefault(); up.classList.add("over"); });
    up.addEventListener("dragleave", () => up.classList.remove("over"));
    up.addEventListener("drop", (ev) => {
      ev.preventDefault(); up.classList.remove("over");
      act(() => uploadFile(ev.dataTransfer.files[0]));
    });
  }
  document.querySelectorAll("select.field-picker").forEach(bindPicker);
  const save = document.getElementById("save-form");
  if (save) save.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(async () => {
      const name = document.getElementById("save-name").value.trim();
      let r = await post("/api/mapping/save", { name: name });
      if (r.exists) {  // asked, not replaced behind the person's back
        if (!confirm("A saved mapping named \u201c" + r.exists + "\u201d exists. Replace it with this one?")) {
          say("Not saved: choose another name to keep both.", false);
          return;
        }
        r = await post("/api/mapping/save", { name: name, replace: true });
      }
      await swap("✔ Saved as " + r.saved + ".");
    });
  });
  document.querySelectorAll("input.switch").forEach((c) => c.addEventListener("change", () => act(async () => {
    await post("/api/mapping/switch", { id: c.dataset.id, on: c.checked });
    await swap("✔ Transform " + (c.checked ? "on" : "off") + ".");
  })));
  reviewInit();
  pushInit();
  const again = document.getElementById("retry-form");
  if (again) again.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(async () => {
      await post("/api/push/start", { retry_failed: true });
      location.href = "/push";  // followed live there
    });
  });
}

// -- review grid -----------------------------------------------------------------------------------

// ?status=invalid (the Results page's link to the rows to fix) opens the grid on those rows.
const grid = { offset: 0, limit: 50, status: new URLSearchParams(location.search).get("status") || "", code: "",
               total: 0, page: null, started: false };

async function reviewInit() {
  const el = document.getElementById("review");
  if (!el || grid.started) return;
  grid.started = true;
  // said on the page: a check that cannot start, or a stream and status that fail, left "Checking every row…"
  try { await followCheck(); } catch (e) { say("✖ " + e.message, false); }
}

async function followCheck() {
  await post("/api/review/start", {});  // once per file: the check already under way is kept
  let shown = false;
  const last = await follow("review", (s) => !s.started || s.done || s.error !== null, async (s) => {
    showCheckProgress(s);
    if (s.ready && !s.error && (!shown || s.done)) {  // the first rows while the rest are checked; all at the end
      document.getElementById("counts-section").hidden = false;
      document.getElementById("grid-section").hidden = false;
      renderCounts(s.counts);
      await loadRows();
      shown = true;
    }
  });
  if (last.error) { say("✖ " + last.error, false); return; }
  if (last.stopping) { say(STOPPED, false); return; }
  if (!last.started) {  // the table was dropped: another tab chose another file, sheet or mapping
    say("✖ The file or its mapping changed since this page was opened (in another tab?): "
      + "open the Mapping page and check the rows again.", false);
    return;
  }
  const prev = document.getElementById("prev"), next = document.getElementById("next");
  prev.addEventListener("click", () => { grid.offset = Math.max(0, grid.offset - grid.limit); act(loadRows); });
  next.addEventListener("click", () => { if (grid.offset + grid.limit < grid.total) { grid.offset += grid.limit; act(loadRows); } });
  document.getElementById("replace-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(async () => {
      const f = formData(ev.target);
      const r = await post("/api/review/replace", f);
      renderCounts(r.counts);
      await loadRows();
      say("✔ " + r.changed + " cells of " + f.column + " changed; their rows were checked again.", true);
    });
  });
}

function showCheckProgress(s) {
  const bar = document.getElementById("check-progress"), text = document.getElementById("check-progress-text");
  const total = s.rows_expected || 0;
  if (total) { bar.max = total; bar.value = Math.min(s.rows_done, total); } else bar.removeAttribute("value");
  text.textContent = s.done ? "Every row checked: " + (s.counts ? s.counts.total.toLocaleString() : 0) + " rows."
    : "Checking every row: " + (s.rows_done || 0).toLocaleString() + (total ? " of about " + total.toLocaleString() : "") + " rows…";
  if (s.done) bar.hidden = true;
}

function filterButton(label, pressed, onClick, cls) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.className = "filter " + (cls || "");
  b.setAttribute("aria-pressed", pressed ? "true" : "false");
  b.addEventListener("click", onClick);
  return b;
}

function renderCounts(c) {
  grid.counts = c;
  const st = document.getElementById("status-filters"), pr = document.getElementById("problem-filters");
  st.replaceChildren();
  pr.replaceChildren();
  const setStatus = (v) => () => { grid.status = v; grid.code = ""; grid.offset = 0; renderCounts(grid.counts); act(loadRows); };
  st.append(filterButton("All rows: " + c.total.toLocaleString(), !grid.status && !grid.code, setStatus("")));
  for (const [k, v] of Object.entries(c.status)) {
    st.append(filterButton(k + ": " + v.toLocaleString(), grid.status === k, setStatus(k), "status-" + k));
  }
  for (const p of c.problems) {
    const label = (p.severity === "error" ? "✖ " : "⚠ ") + p.title + " (" + p.code + "): " + p.rows.toLocaleString() + (p.rows === 1 ? " row" : " rows");
    pr.append(filterButton(label, grid.code === p.code, () => { grid.code = p.code; grid.status = ""; grid.offset = 0; renderCounts(grid.counts); act(loadRows); }, p.severity));
  }
}

async function loadRows() {
  const q = new URLSearchParams({ offset: grid.offset, limit: grid.limit, status: grid.status, code: grid.code });
  const page = await getJSON("/api/review/rows?" + q);
  grid.total = page.total;
  grid.page = page;
  renderRows(page);
}

function cellText(td, value, reasons, leftOut) {
  td.replaceChildren();
  const v = document.createElement("span");
  v.textContent = value;
  td.append(v);
  td.classList.remove("bad", "left-out");
  td.removeAttribute("title");
  // an invalid cell rejects its row; a left-out one (an optional value not valid) is only not sent
  const [cls, mark, said] = reasons && reasons.length ? ["bad", "✖ ", reasons]
    : leftOut && leftOut.length ? ["left-out", "⚠ left out: ", leftOut] : [null, "", []];
  if (cls) {
    td.classList.add(cls);
    td.title = said.join("; ");
    const why = document.createElement("span");
    why.className = "why";
    why.textContent = mark + said.join("; ");
    td.append(why);
  }
}

function rowElement(page, r) {
  const tr = document.createElement("tr");
  tr.dataset.row = r.row;
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = r.row + (r.edited ? " (fixed)" : "");
  tr.append(th);
  const st = document.createElement("td");
  st.className = "status-" + r.status;
  st.textContent = ({ valid: "✔ ", invalid: "✖ ", skipped: "⤼ ", partial: "◐ " }[r.status] || "") + r.status;
  tr.append(st);
  const pr = document.createElement("td");
  pr.className = "problems";
  pr.textContent = r.problems.map((p) => (p.severity === "error" ? "✖ " : "⚠ ") + p.message).join("\n");
  tr.append(pr);
  r.cells.forEach((v, i) => {
    const td = document.createElement("td");
    td.tabIndex = -1;  // one cell of the grid is in the Tab order (see rove); the arrows move between them
    td.dataset.col = i;
    td.className = "cell";
    cellText(td, v, r.invalid[i], (r.left_out || {})[i]);
    td.addEventListener("focus", () => rove(td));
    td.addEventListener("click", () => startEdit(td, r, i));
    td.addEventListener("keydown", (ev) => cellKey(ev, td, r, i));
    tr.append(td);
  });
  r.values.forEach((v, j) => {
    const td = document.createElement("td");
    td.className = "value";
    td.textContent = v;
    if (r.changed.includes(j)) {
      td.classList.add("changed");
      td.title = "changed from the file's cell";
      const mark = document.createElement("span");
      mark.className = "why";
      mark.textContent = "✎ changed";
      td.append(mark);
    }
    tr.append(td);
  });
  return tr;
}

function renderRows(page) {
  const table = document.getElementById("grid");
  const head = document.createElement("tr");
  const heads = ["Row", "Status", "Problems", ...page.columns,
    ...page.value_columns.map((c) => "→ " + (c.part ? c.part + " " : "") + c.field)];
  heads.forEach((h, i) => {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    if (i >= 3 + page.columns.length) th.className = "value";
    head.append(th);
  });
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(...page.rows.map((r) => rowElement(page, r)));
  const first = table.querySelector("td.cell");
  if (first) rove(first);
  table.setAttribute("aria-rowcount", page.total + 1);
  const end = Math.min(page.offset + page.rows.length, page.total);
  document.getElementById("grid-range").textContent = page.total
    ? (page.offset + 1).toLocaleString() + "–" + end.toLocaleString() + " of " + page.total.toLocaleString()
    : "(none)";
  document.getElementById("prev").disabled = page.offset === 0;
  document.getElementById("next").disabled = end >= page.total;
}

// A roving Tab stop (the ARIA grid pattern): only the cell last focused is in the Tab order, so Tab
// leaves the grid for the controls after it instead of walking through every cell of the page.
function rove(td) {
  document.querySelectorAll('#grid td.cell[tabindex="0"]').forEach((c) => { if (c !== td) c.tabIndex = -1; });
  td.tabIndex = 0;
}

function cellKey(ev, td, r, i) {
  if (ev.target !== td) return;
  if (ev.key === "Enter" || ev.key === "F2") { ev.preventDefault(); startEdit(td, r, i); return; }
  const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
  const m = moves[ev.key];
  if (!m) return;
  ev.preventDefault();
  let tr = td.parentElement;
  if (m[0] < 0) tr = tr.previousElementSibling;
  if (m[0] > 0) tr = tr.nextElementSibling;
  const target = tr && tr.querySelector('td[data-col="' + (i + m[1]) + '"]');
  if (target) target.focus();
}

function startEdit(td, r, i) {
  if (td.querySelector("input")) return;
  const column = grid.page.columns[i];
  const input = document.createElement("input");
  input.value = r.cells[i];
  input.setAttribute("aria-label", "Row " + r.row + ", " + column);
  input.className = "cell-edit";
  td.replaceChildren(input);
  input.focus();
  input.select();
  let done = false;
  const cancel = () => { if (done) return; done = true; cellText(td, r.cells[i], r.invalid[i], (r.left_out || {})[i]); td.focus(); };
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { ev.preventDefault(); cancel(); }
    if (ev.key === "Enter") {
      ev.preventDefault();
      done = true;
      act(async () => {
        const res = await post("/api/review/edit", { row: r.row, column: column, value: input.value });
        renderCounts(res.counts);
        const tr = td.parentElement;
        const fresh = rowElement(grid.page, res.row);
        tr.replaceWith(fresh);
        const again = fresh.querySelector('td[data-col="' + i + '"]');
        if (again) again.focus();
        say("✔ Row " + r.row + " checked again: " + res.row.status + ".", true);
      });
    }
  });
  input.addEventListener("blur", cancel);
}

// -- push ------------------------------------------------------------------------------------------

function pushInit() {
  const box = document.getElementById("push");
  if (!box) return;
  const start = (data) => act(async () => {
    const s = await post("/api/push/start", data);
    showPush(s);
    followPush();
  });
  // the box's text as typed: the server refuses an empty or wrong one (a trial is never a push of every row)
  document.getElementById("trial-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    start({ trial: document.getElementById("trial-rows").value });
  });
  document.getElementById("push-form").addEventListener("submit", (ev) => { ev.preventDefault(); start({}); });
  document.getElementById("cancel-push").addEventListener("click", () => act(async () => {
    await post("/api/push/cancel", {});
    say("Stopping: the requests already sent are answered, the other rows stay not-sent.", true);
  }));
  followPush();  // a push under way (the page reopened mid-push) is picked up; none: the stream just ends
}

let pushFollowing = false, pushAgain = false;

// One follower of the push at a time; a push started while one is winding down is followed next.
async function followPush() {
  if (pushFollowing) { pushAgain = true; return; }
  pushFollowing = true;
  try {
    do {
      pushAgain = false;
      const last = await follow("push", (s) => !s.running, (s) => { if (s.number) showPush(s); });
      if (last.stopping) { say(STOPPED, false); return; }
    } while (pushAgain);
  } catch (e) {
    say("✖ " + e.message, false);
  } finally { pushFollowing = false; }
}

function showPush(s) {
  document.getElementById("progress-section").hidden = false;
  const bar = document.getElementById("push-progress");
  if (s.total) { bar.max = s.total; bar.value = Math.min(s.done, s.total); }
  if (!s.running) { bar.max = 1; bar.value = 1; }
  const what = "Push " + s.number + (s.file ? " of " + s.file : "") + (s.trial ? " (trial of " + s.trial + " rows)" : "")
    + (s.retry_failed ? " (the failed rows again)" : "");
  let text = what + ": " + s.done.toLocaleString() + (s.total ? " of about " + s.total.toLocaleString() : "") + " rows, "
    + s.rate + " rows/s";
  if (s.running && s.eta_seconds !== null) text += ", about " + s.eta_seconds + " s left";
  if (s.cancelling) text += "; stopping…";
  if (!s.running) text = what + " finished in " + s.elapsed + " s" + (s.error ? ": " + s.error : ".");
  if (!s.running && s.held_back) {
    text += " " + s.held_back.toLocaleString() + (s.held_back === 1 ? " row was" : " rows were")
      + " held back by the trial (not-sent): the next push sends them.";
  }
  document.getElementById("push-text").textContent = text;
  const ul = document.getElementById("push-counts");
  ul.replaceChildren(...Object.entries(s.counts).map(([k, v]) => {
    const li = document.createElement("li");
    const held = k === "not-sent" && s.held_back >= v;  // a trial's rows for the next push, nothing wrong
    li.className = "status-" + (held ? "held" : k);
    li.textContent = k + ": " + v.toLocaleString() + (held ? " (held back by the trial)" : "");
    return li;
  }));
  document.getElementById("push-notices").replaceChildren(...s.notices.map((n) => {
    const li = document.createElement("li");
    li.textContent = n;
    return li;
  }));
  document.getElementById("cancel-push").disabled = !s.running || s.cancelling;
  document.getElementById("push-done").hidden = s.running;
  document.getElementById("start-trial").disabled = s.running;
  document.getElementById("start-push").disabled = s.running;
}

document.addEventListener("DOMContentLoaded", bind);
