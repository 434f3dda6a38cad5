"""The workbench in a real browser (Playwright driving Debian's chromium) against the sandbox.

Three journeys, each asserting what the sandbox stored and what the downloaded report says, with
a screenshot of every step under tests/artifacts/<test>/ (gitignored; with REALEFLOW_DOCS_IMG=1 the
README's pictures are written to docs/img/ too):

(a) samples/propstream.xlsx with its preset, straight to a push;
(b) a messy workbook (a title above the table, owners "SMITH JOHN & MARY", a mistyped state) through the suggested
    mapping, the bad cell fixed in the grid, a trial push of 3 rows, then the rest;
(c) a push cancelled midway after its tab was closed and reopened, then pushed again: nothing twice;
(e) a push the key stopped midway: from the Results to the rows to fix, then the failed rows sent again.

chromium must be at /usr/bin/chromium (``apt-get install -y chromium``; .ci/run installs it): the
tests fail, never skip, without it.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.sandbox import Faults
from importer.ui import WorkbenchServer

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 20_000  # the longest a step may take in the browser

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the workbench's browser tests need Debian's chromium "
            "(apt-get install -y chromium; .ci/run installs it when CI=true)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _unlabelled(page: Any) -> list[str]:
    """The page's controls a screen reader could not name (no label, aria-label or text)."""
    missing = []
    for el in page.locator("input:not([type=hidden]), select, textarea, button").all():
        ident = el.get_attribute("id")
        if el.get_attribute("aria-label") or (ident and page.locator(f"label[for='{ident}']").count()):
            continue
        if el.evaluate("e => e.tagName") == "BUTTON" and el.inner_text().strip():
            continue
        missing.append(el.evaluate("e => e.outerHTML")[:120])
    return missing


#: The README's pictures: (journey, step) -> docs/img/<name>.png, written there when DOCS_IMG_ENV is set
#: (``REALEFLOW_DOCS_IMG=1 python -m pytest tests/test_ui_browser.py``), so they are always the pages as they are.
README_SHOTS = {
    ("b_messy", "file-title-row"): "workbench-file",
    ("b_messy", "mapping-suggested"): "workbench-mapping",
    ("b_messy", "review-invalid-row"): "workbench-review",
    ("b_messy", "push-trial"): "workbench-push-trial",
    ("c_cancel", "push-running-after-reopen"): "workbench-push-live",
    ("c_cancel", "push-cancelled"): "workbench-push-cancelled",
    ("a_propstream", "results"): "workbench-results",
    ("e_send_again", "results-rows-left"): "workbench-results-send-again",
}
DOCS_IMG_ENV = "REALEFLOW_DOCS_IMG"


class Steps:
    """Screenshots of one journey, numbered in order; every control of each page has a name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dir = ARTIFACTS / name
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*.png"):
            old.unlink()
        self.n = 0

    def shot(self, page: Any, what: str) -> None:
        self.n += 1
        assert not _unlabelled(page), f"{what}: controls without a label: {_unlabelled(page)}"
        path = self.dir / f"{self.n:02d}-{what}.png"
        page.screenshot(path=str(path), full_page=True)
        readme = README_SHOTS.get((self.name, what))
        if readme and os.environ.get(DOCS_IMG_ENV):
            shutil.copyfile(path, REPO / "docs" / "img" / f"{readme}.png")


@pytest.fixture
def workbench(tmp_path: Path) -> Iterator[WorkbenchServer]:
    with WorkbenchServer(sandbox=True, mappings_dir=tmp_path / "mappings") as server:
        yield server


def _page(browser: Any, *, event_source: bool = True) -> Any:
    """A new tab; ``event_source=False``: a browser without EventSource (the page polls instead)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    if not event_source:
        context.add_init_script("delete window.EventSource;")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return page


def _api_calls(page: Any) -> list[str]:
    """The paths of the /api/ requests the tab makes from now on (filled as they are made)."""
    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.url.split("?")[0].split("/", 3)[-1]))
    return calls


def _followed(calls: list[str], how: str) -> set[str]:
    """Which of the review's and the push's progress URLs of kind ``how`` (events, status) were asked for."""
    return {c for c in calls if c in (f"api/review/{how}", f"api/push/{how}")}


def _report(page: Any, link: str) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.click(link)
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _upload(page: Any, path: Path) -> None:
    page.set_input_files("#file", str(path))
    page.wait_for_selector("#preview")


def _to_review(page: Any) -> None:
    page.click("text=Next: check every row")
    page.wait_for_url("**/review")
    page.wait_for_selector("#grid tbody tr")


def _push(page: Any, button: str) -> None:
    page.click(button)
    page.wait_for_selector("#push-done:not([hidden])")


def _messy_uploaded(browser: Any, workbench: WorkbenchServer) -> Any:
    """A new tab on the file page with the messy workbook uploaded."""
    page = _page(browser)
    page.goto(workbench.url)
    page.wait_for_url("**/file")
    _upload(page, REPO / "tests" / "data" / "ui_messy.xlsx")
    return page


def _messy_in_review(browser: Any, workbench: WorkbenchServer) -> Any:
    """A new tab on the review grid of the messy workbook, with its suggested mapping."""
    page = _messy_uploaded(browser, workbench)
    page.click("text=Next: map the columns")
    _to_review(page)
    return page


def test_propstream_preset_straight_to_push(browser: Any, workbench: WorkbenchServer) -> None:
    steps = Steps("a_propstream")
    page = _page(browser, event_source=False)  # an old browser: the progress is polled instead
    calls = _api_calls(page)
    page.goto(workbench.url)  # the sandbox is connected already: the file page comes first
    page.wait_for_url("**/file")
    page.click("nav >> text=Connect")
    assert "Active" in page.inner_text("#account-status")
    steps.shot(page, "connect")
    page.click("text=Next: choose the file")
    _upload(page, REPO / "samples" / "propstream.xlsx")
    assert page.inner_text("#sheet-read")
    steps.shot(page, "file")
    page.click("text=Next: map the columns")
    page.wait_for_url("**/mapping")
    assert "preset propstream" in page.inner_text("#mapping-label")
    steps.shot(page, "mapping")
    _to_review(page)
    steps.shot(page, "review")
    page.click("text=Next: send the rows")
    page.wait_for_url("**/push")
    _push(page, "#start-push")
    steps.shot(page, "push")
    page.click("text=See the results")
    page.wait_for_url("**/results")
    steps.shot(page, "results")
    assert _followed(calls, "status") == {"api/review/status", "api/push/status"}
    assert not _followed(calls, "events")

    rows = _report(page, "#run-1 >> text=CSV")
    assert [int(r["row"]) for r in rows] == list(range(2, 32))  # every row, at its spreadsheet number
    status = [r["status"] for r in rows]
    store = workbench.sandbox.store
    assert status.count("created") + status.count("partial") == len(store.properties()) == 27
    assert status.count("skipped") == 2 and status.count("invalid") == 1  # Do Not Mail rows; a bad row
    ids = {int(r["property_id"]) for r in rows if r["property_id"]}
    assert ids == {p["property_id"] for p in store.properties()}  # the report's ids are the records the sandbox holds


def test_messy_workbook_fixed_in_the_grid_trial_then_rest(browser: Any, workbench: WorkbenchServer) -> None:
    steps = Steps("b_messy")
    page = _page(browser)
    calls = _api_calls(page)
    page.goto(workbench.url)
    page.wait_for_url("**/file")
    _upload(page, REPO / "tests" / "data" / "ui_messy.xlsx")
    assert page.inner_text("#header-row").startswith("row 3 (found)")  # the title above was passed over
    assert "← header" in page.inner_text("#raw-rows tr.header-row")
    steps.shot(page, "file-title-row")
    page.click("text=Next: map the columns")
    page.wait_for_url("**/mapping")
    assert "suggested" in page.inner_text("#mapping-label")
    order = page.get_by_label(re.compile(r"Owner 1: fullname: names are written last name first"))
    assert order.is_checked()
    steps.shot(page, "mapping-suggested")
    _to_review(page)
    page.click("#status-filters >> text=invalid: 1")
    page.wait_for_selector("#grid tbody tr[data-row='6']")
    bad = page.locator("#grid tbody tr[data-row='6'] td.bad")
    assert bad.count() == 1
    assert "not a US state" in bad.get_attribute("title")  # the reason on hover...
    assert "not a US state" in bad.inner_text()  # ...and as text, not colour alone
    steps.shot(page, "review-invalid-row")
    state_col = bad.get_attribute("data-col")
    bad.focus()  # by keyboard: Enter edits, typing replaces the selected text, Enter saves
    page.keyboard.press("Enter")
    assert page.locator("input.cell-edit").get_attribute("aria-label") == "Row 6, Property State"
    page.keyboard.type("OH")
    page.keyboard.press("Enter")
    page.wait_for_selector("#grid tbody tr[data-row='6'] td.status-valid")
    assert page.locator("#grid tbody tr[data-row='6'] td.bad").count() == 0
    assert page.locator("td:focus").get_attribute("data-col") == state_col  # focus stays on the cell
    page.keyboard.press("ArrowLeft")
    assert page.locator("td:focus").get_attribute("data-col") == str(int(state_col) - 1)
    steps.shot(page, "review-fixed")
    page.click("text=Next: send the rows")
    page.wait_for_url("**/push")
    page.fill("#trial-rows", "3")
    _push(page, "#start-trial")
    assert "created: 3" in page.inner_text("#push-counts")
    steps.shot(page, "push-trial")
    store = workbench.sandbox.store
    assert len(store.properties()) == 3
    _push(page, "#start-push")
    steps.shot(page, "push-rest")
    page.click("text=See the results")
    page.wait_for_url("**/results")
    steps.shot(page, "results")
    # the check's and the pushes' progress came from the event streams: nothing polled
    assert _followed(calls, "events") == {"api/review/events", "api/push/events"}
    assert not _followed(calls, "status")

    rows = {int(r["row"]): r for r in _report(page, "#run-2 >> text=CSV")}
    assert sorted(rows) == list(range(4, 16))  # the rows keep their numbers under the title
    assert [rows[n]["status"] for n in (4, 5, 6)] == ["skipped"] * 3  # the trial's rows: not sent twice
    assert all(rows[n]["status"] == "created" for n in range(7, 16))
    assert rows[6]["Property State"] == "OH"  # the fixed cell
    properties = store.properties()
    assert len(properties) == 12 and len({p["address"] for p in properties}) == 12
    assert next(p for p in properties if p["address"] == "9 Elm Ave")["state"] == "OH"
    names = {c["fullname"] for c in store.contacts()}
    assert {"John Smith", "Mary Smith", "Ashley Lopez"} <= names


def test_cancel_midway_reopen_push_again_nothing_twice(browser: Any, workbench: WorkbenchServer) -> None:
    steps = Steps("c_cancel")
    sandbox = workbench.sandbox
    assert sandbox is not None
    sandbox.faults = Faults(latency_ms=250)  # time to press Cancel
    page = _page(browser)
    page.goto(workbench.url)
    page.wait_for_url("**/file")
    _upload(page, REPO / "samples" / "propstream.xlsx")
    page.click("text=Next: map the columns")
    _to_review(page)
    page.click("text=Next: send the rows")
    page.wait_for_url("**/push")
    page.click("#start-push")
    page.locator("#push-counts", has_text="created").wait_for()  # some rows are in
    context = page.context
    page.close()  # closing the tab does not stop the run
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    calls = _api_calls(page)
    page.goto(f"http://127.0.0.1:{workbench.port}/")
    page.wait_for_url("**/push")
    page.wait_for_selector("#progress-section:not([hidden])")
    assert workbench.workbench.pushes.running
    page.locator("#push-text", has_text="rows/s").wait_for()  # the stream picked up again
    assert _followed(calls, "events") == {"api/push/events"} and not _followed(calls, "status")
    steps.shot(page, "push-running-after-reopen")
    page.click("#cancel-push")
    page.wait_for_selector("#push-done:not([hidden])")
    steps.shot(page, "push-cancelled")
    first = workbench.workbench.pushes.jobs[0].status()
    assert first["counts"].get("not-sent", 0) > 0
    run1 = workbench.workbench.pushes.jobs[0].result.outcomes
    done_in_run1 = {int(r) for r in run1.index[run1["status"] == "created"]}
    stored = len(sandbox.store.properties())
    assert 0 < stored < 27

    sandbox.faults = Faults()
    # something between the page and the workbench breaks its event stream: the page asks instead
    page.route("**/api/push/events", lambda route: route.fulfill(status=503, body="unavailable"))
    page.reload()
    calls.clear()
    _push(page, "#start-push")
    assert "api/push/status" in calls and calls.count("api/push/events") >= 1
    steps.shot(page, "push-again")
    page.click("text=See the results")
    page.wait_for_url("**/results")
    steps.shot(page, "results")
    rows = _report(page, "#run-2 >> text=CSV")
    status = [r["status"] for r in rows]
    properties = sandbox.store.properties()
    assert len(properties) == 27  # every sendable row once: what the first run made was not made again
    assert len({(p["address"], p["zipcode"]) for p in properties}) == 27
    assert {int(r["row"]) for r in rows if r["status"] == "skipped"} >= done_in_run1  # not sent again
    contacts = sandbox.store.contacts()
    assert len({(c["fullname"], c["address"]) for c in contacts}) == len(contacts)  # no owner twice
    assert "not-sent" not in status
    history = page.inner_text("#history")
    assert "interrupted" in history or "stopped" in history



def test_results_lead_to_the_rows_to_fix_and_send_the_failed_rows_again(
    browser: Any, workbench: WorkbenchServer
) -> None:
    steps = Steps("e_send_again")
    sandbox = workbench.sandbox
    assert sandbox is not None
    sandbox.faults = Faults(revoke_after=4)  # the key stops working midway: rows are left
    page = _messy_in_review(browser, workbench)
    page.click("text=Next: send the rows")
    page.wait_for_url("**/push")
    _push(page, "#start-push")
    page.click("text=See the results")
    page.wait_for_url("**/results")
    steps.shot(page, "results-rows-left")
    page.click("#fix-invalid")  # the rows to fix, in the grid, already filtered
    page.wait_for_url("**/review?status=invalid")
    page.wait_for_selector("#grid tbody tr[data-row='6']")
    assert page.locator("#grid tbody tr").count() == 1
    assert page.locator("#status-filters button[aria-pressed='true']").inner_text().startswith("invalid")
    steps.shot(page, "review-the-invalid-rows")
    page.go_back()
    page.wait_for_url("**/results")
    sandbox.faults = Faults()
    page.click("#retry-failed")
    page.wait_for_url("**/push")
    page.wait_for_selector("#push-done:not([hidden])")
    assert "(the failed rows again)" in page.inner_text("#push-text")
    steps.shot(page, "push-failed-rows-again")
    page.click("text=See the results")
    page.wait_for_url("**/results")
    steps.shot(page, "results-after")
    rows = {int(r["row"]): r for r in _report(page, "#run-2 >> text=CSV")}
    assert {n for n, r in rows.items() if r["status"] == "created"} == set(range(4, 16)) - {6}
    properties = [p["address"] for p in sandbox.store.properties()]
    assert len(properties) == len(set(properties)) == 11  # nothing twice
    assert page.locator("#history a[href='/download/run/1/report.csv']").count() == 1


def test_the_switch_on_the_connect_page_rehearses_on_the_built_in_sandbox(browser: Any, tmp_path: Path) -> None:
    steps = Steps("d_rehearsal_switch")
    with WorkbenchServer(mappings_dir=tmp_path / "mappings") as server:  # without --sandbox
        assert server.sandbox is None
        page = _page(browser)
        page.goto(server.url)
        page.wait_for_url("**/connect")
        assert page.locator("#rehearsal-banner").count() == 0
        page.click("text=Rehearse on the built-in sandbox (nothing leaves this computer)")
        page.wait_for_selector("#rehearsal-banner")
        assert "Rehearsal: the built-in sandbox" in page.inner_text("#rehearsal-banner")
        assert server.sandbox is not None
        status = page.inner_text("#account-status")
        assert "Active" in status and server.sandbox.url in status
        steps.shot(page, "rehearsal")
        page.click("text=Next: choose the file")
        assert "Rehearsal: the built-in sandbox" in page.inner_text("#rehearsal-banner")
        page.click("nav >> text=Connect")
        page.click("text=Back to my Realeflow account")
        page.wait_for_selector("#key")
        assert page.locator("#rehearsal-banner").count() == 0
        steps.shot(page, "back-to-the-key")


def test_a_trial_with_its_rows_left_empty_sends_nothing(browser: Any, workbench: WorkbenchServer) -> None:
    """The page read the emptied box as "no trial" and sent every row of the file to the account."""
    page = _messy_uploaded(browser, workbench)
    page.goto(workbench.url.split("?")[0] + "push")
    page.fill("#trial-rows", "")
    page.click("#start-trial")  # refused (by the browser's check of the box, or by the server): nothing starts
    page.fill("#trial-rows", "2")
    _push(page, "#start-trial")
    assert [job.trial for job in workbench.workbench.pushes.jobs] == [2]
    assert workbench.sandbox is not None and len(workbench.sandbox.store.properties()) == 2


def test_tab_leaves_the_review_grid_in_one_step(browser: Any, workbench: WorkbenchServer) -> None:
    """Every cell was a Tab stop: the find-and-replace and 'Next' after the grid were a Tab per cell away
    (50 rows times the file's columns)."""
    page = _messy_in_review(browser, workbench)
    assert page.locator("#grid td.cell[tabindex='0']").count() == 1
    page.focus("#grid td.cell >> nth=0")
    page.keyboard.press("ArrowDown")  # the arrows move within the grid, and the Tab stop moves along
    page.keyboard.press("ArrowRight")
    moved = page.locator("td:focus")
    assert moved.get_attribute("data-col") == "1" and moved.get_attribute("tabindex") == "0"
    assert page.locator("#grid td.cell[tabindex='0']").count() == 1
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "replace-column"
    page.keyboard.press("Shift+Tab")
    assert page.locator("td:focus").get_attribute("data-col") == "1"  # back to the cell it left


def _luminance(css: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+", css)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_the_focus_ring_stands_out_from_what_is_around_it(browser: Any, workbench: WorkbenchServer) -> None:
    """The ring was the same blue everywhere: on the dark header's step links it was 2:1 against the header,
    under the 3:1 a focus indicator needs (WCAG 1.4.11), so a keyboard user lost their place there."""
    page = _page(browser)
    page.goto(workbench.url)
    page.wait_for_url("**/file")
    seen = []
    for _ in range(8):  # the skip link, the six steps, then the page's first control
        page.keyboard.press("Tab")
        # the ring's colour, and the background just outside it (what is drawn there, whatever holds it)
        ring, around, name = page.evaluate(
            "() => { const e = document.activeElement, r = e.getBoundingClientRect(), cs = getComputedStyle(e);"
            " const gap = parseFloat(cs.outlineOffset) + parseFloat(cs.outlineWidth) + 1;"
            " const x = r.left - gap >= 0 ? r.left - gap : r.right + gap;"
            " let p = document.elementsFromPoint(x, r.top + r.height / 2).find((u) => u !== e && !e.contains(u));"
            " let bg = 'rgb(255, 255, 255)';"
            " for (; p; p = p.parentElement) { const c = getComputedStyle(p).backgroundColor;"
            "   if (c !== 'rgba(0, 0, 0, 0)') { bg = c; break; } }"
            " return [cs.outlineColor, bg, e.textContent.trim().slice(0, 30)]; }"
        )
        light, dark = sorted((_luminance(ring), _luminance(around)), reverse=True)
        seen.append((name, round((light + 0.05) / (dark + 0.05), 1)))
    assert all(ratio >= 3 for _, ratio in seen), seen
    assert any(name == "1. Connect" for name, _ in seen), seen


@pytest.mark.parametrize(
    ("route", "answer", "said"),
    [
        ("**/api/review/start", {"status": 400, "content_type": "application/json",
                                 "body": '{"error": "choose a file and a mapping first"}'},
         "✖ choose a file and a mapping first"),
        ("**/api/review/events", {"status": 200, "content_type": "text/event-stream",
                                  "body": 'event: end\ndata: {"started":false,"ended":true,"stopping":false}\n\n'},
         "✖ The file or its mapping changed since this page was opened"),
    ],
)
def test_the_review_page_says_why_its_check_did_not_go_on(
    browser: Any, workbench: WorkbenchServer, route: str, answer: dict[str, Any], said: str
) -> None:
    """A check that could not start left "Checking every row…" for ever with nothing said (an unhandled
    rejection); one dropped by a change in another tab said the workbench had stopped (Ctrl-C)."""
    page = _messy_in_review(browser, workbench)
    page.route(route, lambda r: r.fulfill(**answer))  # what the server answers when that happens
    page.reload()
    page.wait_for_selector("#message.bad")
    assert page.inner_text("#message").startswith(said)


def test_a_column_picker_from_the_keyboard_applies_once_and_a_saved_name_is_not_replaced_unasked(
    browser: Any, workbench: WorkbenchServer
) -> None:
    page = _messy_uploaded(browser, workbench)
    page.click("text=Next: map the columns")
    page.wait_for_url("**/mapping")
    calls = _api_calls(page)
    picker = page.locator("select.field-picker[data-part='Property'][data-field='tags']")
    before = picker.input_value()
    picker.focus()
    for _ in range(3):  # Chrome fires "change" on each arrow key of a closed list
        page.keyboard.press("ArrowDown")
    page.wait_for_timeout(400)
    assert "api/mapping/field" not in calls  # nothing remapped, checked and redrawn per key
    chosen = picker.input_value()
    assert chosen != before
    page.keyboard.press("Enter")
    page.locator("#message", has_text="tags: " + chosen).wait_for()
    assert calls.count("api/mapping/field") == 1
    assert workbench.workbench.mapping is not None
    assert workbench.workbench.mapping["property"]["fields"]["tags"] == chosen

    page.fill("#save-name", "county list")
    page.click("#save-form button")
    page.locator("#message", has_text="Saved as county list").wait_for()
    page.select_option("select.field-picker[data-part='Property'][data-field='tags']", "")
    page.locator("#message", has_text="tags: not mapped").wait_for()
    saved = workbench.workbench.memory.load("county list")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.fill("#save-name", "county list")
    page.click("#save-form button")
    page.locator("#message", has_text="Not saved").wait_for()
    assert "county list" in asked[0] and workbench.workbench.memory.load("county list") == saved
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#save-form button")
    page.locator("#message", has_text="Saved as county list").wait_for()
    assert "tags" not in workbench.workbench.memory.load("county list")["property"]["fields"]
