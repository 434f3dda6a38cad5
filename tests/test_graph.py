"""Properties with their owners (kind: property-with-contacts): importer/plans/with_contacts.py end to end.

Against the sandbox over a real socket: what the server holds afterwards (every property, every
distinct owner and every relation exactly once, each relation linking the row's own pair), the
report's columns and statuses, and the exit code. The GUID lookup is also tested alone, against a
fake API whose list shows only the 5 newest records, to show the open-record window is what keeps
it right under concurrency.
"""

from __future__ import annotations

import asyncio
import csv
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.errors import MappingError
from importer.fields import RELATION_FLAGS
from importer.mapping.model import load_mapping, parse_mapping
from importer.pipeline import push_file, validate_file
from importer.plans.with_contacts import GraphPlan, GuidResolver, contact_keys, property_keys, relation_payload
from importer.push.client import Answer
from importer.push.pusher import Job, Pusher
from importer.push.settings import PushSettings
from importer.read.source import open_source
from importer.sandbox import Faults, SandboxServer

REPO = Path(__file__).resolve().parents[1]
OWNERS_SAMPLE = REPO / "samples" / "propstream-owners.csv"
PROPSTREAM = REPO / "mappings" / "propstream.yaml"
FAST = PushSettings(concurrency=8, backoff_base=0.01, backoff_max=0.05, max_attempts=6, row_timeout=20)

MAPPING = """
kind: property-with-contacts
property:
  fields: {address: Property Address, city: Property City, state: Property State, zipcode: Property Zip}
  customfields: {1: APN}
contacts:
  - label: Owner 1
    fields: {fullname: [Owner 1 First Name, Owner 1 Last Name], phone: Phone 1,
             address: Mailing Address, city: Mailing City, state: Mailing State, zipcode: Mailing Zip}
    relation: {IsOwner: true, IsPrimaryContact: true}
  - label: Owner 2
    fields: {fullname: [Owner 2 First Name, Owner 2 Last Name], state: Owner 2 State}
    relation: {IsOwner: true}
"""
HEADERS = [
    "Property Address", "Property City", "Property State", "Property Zip", "APN",
    "Owner 1 First Name", "Owner 1 Last Name", "Phone 1", "Mailing Address", "Mailing City", "Mailing State",
    "Mailing Zip", "Owner 2 First Name", "Owner 2 Last Name", "Owner 2 State",
]  # fmt: skip


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, HEADERS)
        w.writeheader()
        for r in rows:
            w.writerow({h: r.get(h, "") for h in HEADERS})
    return path


def write_mapping(tmp_path: Path) -> Path:
    path = tmp_path / "owners.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def report(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig").set_index("row")


def generated_rows(n: int, seed: int = 5) -> list[dict[str, str]]:
    """A list with repeat owners (a third own several properties), second owners, repeated properties."""
    rng = random.Random(seed)
    streets = ["Oak St", "Elm Ave", "High St", "Parsons Ave", "Broad St", "Main St", "Sunbury Rd"]
    owners = [
        {
            "Owner 1 First Name": f"First{i}",
            "Owner 1 Last Name": f"Last{i}",
            "Mailing Address": f"{100 + i} Mailbox Rd",
            "Mailing City": "Columbus",
            "Mailing State": "OH",
            "Mailing Zip": "43215",
        }
        for i in range(n // 3)
    ]
    rows: list[dict[str, str]] = []
    for i in range(n):
        if rows and rng.random() < 0.08:  # the same house again (two lists overlapping)
            rows.append(dict(rng.choice(rows)))
            continue
        row = {
            "Property Address": f"{1000 + i} {rng.choice(streets)}",
            "Property City": "Columbus",
            "Property State": "OH",
            "Property Zip": "43205",
            "APN": f"010-{i:06d}-00",
            **rng.choice(owners),
        }
        if rng.random() < 0.3:
            row["Owner 2 First Name"], row["Owner 2 Last Name"] = f"Spouse{i}", "Second"
        rows.append(row)
    return rows


def check_server_matches_report(sb: SandboxServer, rows: list[dict[str, str]], rep: pd.DataFrame) -> None:
    """Every row's ids are the records of its own property and owners, related with the mapping's flags."""
    props = {p["property_id"]: p for p in sb.store.properties()}
    contacts = {c["contact_id"]: c for c in sb.store.contacts()}
    relations = sb.store.relations()
    pairs = Counter((r["property_id"], r["contact_id"]) for r in relations)
    assert max(pairs.values()) == 1, "a relation was created twice"
    by_pair = {(r["property_id"], r["contact_id"]): r for r in relations}
    expected_pairs: set[tuple[int, int]] = set()
    for number, row in enumerate(rows, start=2):
        out = rep.loc[str(number)]
        assert out["status"] == "created", (number, out["error"])
        prop = props[int(out["property_id"])]
        assert prop["address"] == row["Property Address"]
        owner1 = contacts[int(out["contact_1_id"])]
        assert owner1["fullname"] == f"{row['Owner 1 First Name']} {row['Owner 1 Last Name']}"
        assert owner1["address"] == row["Mailing Address"]
        link = by_pair[(prop["property_id"], owner1["contact_id"])]
        assert link["property_guid"] == prop["guid"] and link["contact_guid"] == owner1["guid"]
        assert link["IsOwner"] and link["IsPrimaryContact"] and not link["IsTenant"]
        expected_pairs.add((prop["property_id"], owner1["contact_id"]))
        if row.get("Owner 2 First Name"):
            owner2 = contacts[int(out["contact_2_id"])]
            assert owner2["fullname"] == f"{row['Owner 2 First Name']} {row['Owner 2 Last Name']}"
            link = by_pair[(prop["property_id"], owner2["contact_id"])]
            assert link["IsOwner"] and not link["IsPrimaryContact"]
            expected_pairs.add((prop["property_id"], owner2["contact_id"]))
        else:
            assert out["contact_2_id"] == ""
    assert set(pairs) == expected_pairs


# -- identity keys and payloads --------------------------------------------------------------------


def _frame(**cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(v, dtype="str") for k, v in cols.items()})


words = st.text(alphabet="abcdefgh 12", min_size=1, max_size=12).filter(lambda s: s.strip())


@given(name=words, address=words, email=st.emails())
def test_contact_keys_ignore_case_and_spacing(name: str, address: str, email: str) -> None:
    a = _frame(fullname=[name], address=[address], email=[email], city=["X"], state=["OH"], zipcode=["43215"])
    b = _frame(
        fullname=["  " + name.upper().replace(" ", "  ")],
        address=[address.title() + " "],
        email=[email.upper()],
        city=["x"],
        state=["oh"],
        zipcode=["43215"],
    )
    assert contact_keys(a) == contact_keys(b)
    assert len(contact_keys(a)[0]) == 2  # name + address, e-mail


def test_contact_keys_never_merge_on_a_name_alone() -> None:
    frame = _frame(fullname=["John Smith", "John Smith", ""], address=["", "", "1 Main St"], phone=["", "", ""])
    assert contact_keys(frame) == [[], [], []]
    # ... but the same name on the same property is the same person (the house listed twice).
    at = pd.Series(["property|1 oak st", "property|1 oak st", "property|2 elm st"])
    k1, k2, k3 = contact_keys(frame, at)
    assert k1 == k2 and k1 != k3
    frame = _frame(fullname=["A B", "C D"], phone=["2165550101", "(216) 555-0101"])
    k1, k2 = contact_keys(frame)
    assert set(k1) & set(k2), "the same phone makes the same contact"


def test_property_keys_distinguish_places() -> None:
    frame = _frame(address=["1 Main St", "1 main st ", "1 Main St"], city=["Akron", "AKRON", "Kent"], state=["OH"] * 3)
    k = property_keys(frame).tolist()
    assert k[0] == k[1] and k[0] != k[2]


def test_relation_payload_sends_every_flag_as_the_reference_does() -> None:
    body = relation_payload("P-GUID", "C-GUID", {"IsOwner": True, "IsTenant": False})
    assert body["PropertyId"] == "P-GUID" and body["ContactId"] == "C-GUID"
    assert [k for k in body if k.startswith("Is")] == list(RELATION_FLAGS)
    assert body["IsOwner"] == "true" and body["IsTenant"] == "false" and body["IsLienContact"] == "false"


def test_unknown_relation_flag_is_refused_when_the_mapping_is_read() -> None:
    data = {
        "kind": "property-with-contacts",
        "property": {"fields": {"address": "A"}},
        "contacts": [{"fields": {"fullname": "N"}, "relation": {"IsLandlord": True}}],
    }
    with pytest.raises(MappingError, match="unknown flag 'IsLandlord'"):
        parse_mapping(data)


# -- validation per part ---------------------------------------------------------------------------


def test_validate_names_the_part_and_an_invalid_owner_does_not_block_the_property(tmp_path: Path) -> None:
    rows = [
        {
            "Property Address": "1 Oak St",
            "Property State": "OH",
            "Owner 1 First Name": "Ann",
            "Owner 1 Last Name": "Lee",
        },
        {
            "Property Address": "2 Oak St",
            "Property State": "OH",
            "Owner 1 First Name": "Bo",
            "Owner 2 First Name": "Cy",
            "Owner 2 State": "XX",
        },
        {"Property Address": "", "Property State": "OH", "Owner 1 First Name": "Di"},
        {"Property Address": "4 Oak St", "Property State": "ZZ", "Owner 1 First Name": "Ed"},
        {"Property Address": "5 Oak St", "Owner 2 State": "OH"},  # Owner 2's own column filled, no name
    ]
    data = write_csv(tmp_path / "list.csv", rows)
    result = validate_file(data, write_mapping(tmp_path), report=tmp_path / "v.csv")
    rep = report(tmp_path / "v.csv")
    assert list(rep.columns[:6]) == ["status", "property_id", "contact_1_id", "contact_2_id", "error", "warnings"]
    # Owner 2's bad state is left out (a contact's optional field); the property's rejects its row.
    assert rep["status"].tolist() == ["valid", "valid", "invalid", "invalid", "partial"]
    assert rep.loc["3", "error"] == ""
    assert rep.loc["3", "warnings"].startswith("Owner 2: state 'XX' is not a US state code")
    assert "left out, the record is sent without it" in rep.loc["3", "warnings"]
    assert rep.loc["4", "error"].startswith("Property: address is required")
    assert rep.loc["5", "error"].startswith("Property: state 'ZZ'")
    assert rep.loc["6", "error"].startswith("Owner 2: fullname is required")
    assert result.exit_code == 1


def test_shared_columns_do_not_make_an_optional_owner_present() -> None:
    mapping = load_mapping(PROPSTREAM)
    source = open_source(OWNERS_SAMPLE)
    bound = mapping.bind(source.headers)
    owner2 = mapping.records[2]
    assert "Mailing Address" in owner2.columns
    assert set(bound.own_columns(owner2)) == {"Owner 2 First Name", "Owner 2 Last Name"}
    chunk = next(source.chunks(100))
    present = bound.extract(chunk)[2].present
    assert present.sum() == 3  # only the rows naming a second owner


def test_validate_sends_nothing(env: SandboxServer, run_cli: Any, tmp_path: Path) -> None:
    code, _, _ = run_cli("validate", OWNERS_SAMPLE, "--mapping", "propstream", "--report", tmp_path / "v.csv")
    assert code == 1  # the sample has an invalid row on purpose
    assert env.store.count("requests") == 0
    rep = report(tmp_path / "v.csv")
    # Row 12's owner has a mailing state XX: the owner is kept without it.
    assert rep.loc["12", "status"] == "valid" and rep.loc["13", "status"] == "invalid"
    assert (rep["status"] == "valid").sum() == 12


# -- push against the sandbox ----------------------------------------------------------------------


def test_push_owners_sample_creates_each_record_and_relation_once(
    env: SandboxServer, run_cli: Any, tmp_path: Path
) -> None:
    code, _, err = run_cli(
        "push", OWNERS_SAMPLE, "--mapping", "propstream", "--report", tmp_path / "p.csv", "--concurrency", "8"
    )
    assert code == 1, err
    rep = report(tmp_path / "p.csv")
    assert rep["status"].value_counts().to_dict() == {"created": 12, "invalid": 1}
    sb = env
    props, contacts = sb.store.properties(), sb.store.contacts()
    # 12 rows with an address, one house listed twice: 11 properties.
    assert len(props) == 11 and len({p["address"] for p in props}) == 11
    people = [
        "Marcus Reed", "Linda Ortiz", "Paul Ortiz", "Gloria Bennett", "Naomi Fischer", "Daniel Fischer", "Harold Kim",
    ]  # fmt: skip
    # The LLC's contact is its care-of person, with the company as companyname (the preset's transform).
    names = Counter(c["fullname"] for c in contacts if c["companyname"] != "BRIGHTSTONE HOLDINGS LLC")
    assert names == Counter(people)
    assert sum(c["companyname"] == "BRIGHTSTONE HOLDINGS LLC" for c in contacts) == 1
    # Reed x3, Ortiz 2+2, LLC x2, Bennett once for the doubled house, Paul Ortiz alone once, Fischer x2, Kim.
    assert len(sb.store.relations()) == 14
    assert rep.loc["3", "contact_1_id"] == rep.loc["2", "contact_1_id"] == rep.loc["4", "contact_1_id"]
    assert rep.loc["11", "contact_1_id"] == rep.loc["5", "contact_2_id"]  # Paul Ortiz, Owner 2 then Owner 1
    assert rep.loc["10", "property_id"] == rep.loc["9", "property_id"]
    assert "same record as row 9" in rep.loc["10", "warnings"]
    # The owner with mailing state XX is created without a state, and the row says so.
    assert rep.loc["12", "property_id"] != "" and rep.loc["12", "contact_1_id"] != ""
    kim = next(c for c in contacts if c["fullname"] == "Harold Kim")
    assert kim["state"] in (None, "") and kim["city"] == "Ponte Vedra" and rep.loc["12", "error"] == ""
    assert "Owner 1: state 'XX'" in rep.loc["12", "warnings"] and "left out" in rep.loc["12", "warnings"]
    # The invalid row sent nothing: no property without an address was posted.
    bodies = [r["body"] for r in sb.store.requests("/api/property/create")]
    assert len(bodies) == 11 and all('"address"' in b for b in bodies)
    # Ids in the report are the server's.
    assert {int(i) for i in rep["property_id"] if i} == {p["property_id"] for p in props}


@pytest.mark.parametrize("concurrency", [8, 20])
def test_every_relation_links_the_right_pair_under_concurrency(tmp_path: Path, concurrency: int) -> None:
    rows = generated_rows(300)
    data = write_csv(tmp_path / "big.csv", rows)
    faults = Faults(latency_ms=1, jitter_ms=6, seed=concurrency)  # answers overtake each other
    with SandboxServer(faults=faults) as sb:
        settings = PushSettings(concurrency=concurrency, backoff_base=0.01, row_timeout=30)
        result = push_file(
            data, write_mapping(tmp_path), report=tmp_path / "p.csv", api_key=sb.api_key, base_url=sb.url,
            settings=settings,
        )  # fmt: skip
        assert result.exit_code == 0, result.counts
        rep = report(tmp_path / "p.csv")
        check_server_matches_report(sb, rows, rep)
        distinct_props = {r["Property Address"] for r in rows}
        distinct_owners = {r["Owner 1 Last Name"] for r in rows} | {
            r["Owner 2 First Name"] for r in rows if r.get("Owner 2 First Name")
        }  # the repeated houses repeat their second owner: one contact
        assert sb.store.count("properties") == len(distinct_props)
        assert sb.store.count("contacts") == len(distinct_owners)
        # No GUID looked up more than necessary: lookups are shared between waiting rows.
        lists = len(sb.store.requests("/api/property/list")) + len(sb.store.requests("/api/contact/list"))
        creates = sb.store.count("properties") + sb.store.count("contacts")
        assert lists <= creates + 4


def test_lost_answers_and_errors_create_nothing_twice(tmp_path: Path) -> None:
    rows = generated_rows(150, seed=9)
    data = write_csv(tmp_path / "faulty.csv", rows)
    faults = Faults(error_rate=0.05, lost_answer_rate=0.04, rate_limit_rate=0.02, retry_after=0, seed=3)
    with SandboxServer(faults=faults) as sb:
        result = push_file(
            data, write_mapping(tmp_path), report=tmp_path / "p.csv", api_key=sb.api_key, base_url=sb.url,
            settings=FAST,
        )  # fmt: skip
        rep = report(tmp_path / "p.csv")
        props, contacts = sb.store.properties(), sb.store.contacts()
        assert len(props) == len({p["address"] for p in props}), "a property was created twice"
        assert len(contacts) == len({c["fullname"] for c in contacts}), "a contact was created twice"
        pairs = Counter((r["property_id"], r["contact_id"]) for r in sb.store.relations())
        assert max(pairs.values()) == 1, "a relation was sent again after a lost answer"
        lost = rep[rep["error"].str.contains("may have been created")]
        assert len(lost) >= 1  # the sandbox cut some relation answers: reported, not re-sent
        assert set(rep.loc[lost.index, "status"]) == {"partial"}
        # Rows reported created have all their relations on the server.
        rel = set(pairs)
        for number, out in rep[rep["status"] == "created"].iterrows():
            for col in ("contact_1_id", "contact_2_id"):
                if out[col]:
                    assert (int(out["property_id"]), int(out[col])) in rel, number
        assert result.counts.get("created", 0) >= 0.8 * len(rows)


def test_revoked_key_mid_run_leaves_partial_and_not_sent_rows(tmp_path: Path) -> None:
    rows = generated_rows(60, seed=2)
    data = write_csv(tmp_path / "list.csv", rows)
    with SandboxServer(faults=Faults(revoke_after=11)) as sb:
        result = push_file(
            data, write_mapping(tmp_path), report=tmp_path / "p.csv", api_key=sb.api_key, base_url=sb.url,
            settings=PushSettings(concurrency=1, backoff_base=0.01),
        )  # fmt: skip
        assert result.exit_code == 3
        rep = report(tmp_path / "p.csv")
        statuses = rep["status"].value_counts().to_dict()
        assert statuses.get("not-sent", 0) >= 50
        partial = rep[rep["status"] == "partial"]
        assert len(partial) == 1  # the row the 401 hit between its parts
        out = partial.iloc[0]
        assert out["property_id"] != "" and "not sent" in out["error"]
        assert set(rep.loc[rep["status"] == "not-sent", "property_id"]) == {""}


# -- the GUID window, against a fake API whose list shows only the 5 newest -------------------------


class ShortListApi:
    """Creates with random delays; the list shows only the ``shown`` newest records."""

    def __init__(self, shown: int, seed: int) -> None:
        self.shown = shown
        self.rng = random.Random(seed)
        self.records: dict[str, list[dict[str, Any]]] = {"property": [], "contact": []}
        self.next_id = 1

    async def create(self, kind: str, payload: dict[str, Any]) -> Answer:
        await asyncio.sleep(self.rng.random() * 0.004)
        ident = self.next_id
        self.next_id += 1
        self.records[kind].append({"id": f"guid-{ident}", f"{kind}Id": ident, **payload})
        await asyncio.sleep(self.rng.random() * 0.004)
        return Answer(True, ident, None)

    async def recent(self, kind: str) -> list[dict[str, Any]]:
        await asyncio.sleep(self.rng.random() * 0.002)
        return list(reversed(self.records[kind][-self.shown :]))


async def _resolve_all(window: int, shown: int) -> tuple[int, int]:
    api = ShortListApi(shown, seed=window)
    pusher = Pusher(api, PushSettings(concurrency=16, backoff_base=0.01))  # type: ignore[arg-type]
    resolver = GuidResolver(pusher, window=window)
    right = wrong = 0

    async def one(i: int) -> None:
        nonlocal right, wrong
        async with resolver.open("property"):
            outcome = await pusher.send(Job(i, "property", {"address": f"{i} Main St"}))
            try:
                guid = await resolver.guid("property", outcome.id)
            except Exception:
                wrong += 1
                return
        right += guid == f"guid-{outcome.id}"

    await asyncio.gather(*(one(i) for i in range(200)))
    return right, wrong


def test_the_open_window_keeps_guid_lookups_right_with_a_short_list() -> None:
    right, wrong = asyncio.run(_resolve_all(window=4, shown=5))
    assert (right, wrong) == (200, 0)


def test_without_the_window_records_fall_out_of_a_short_list() -> None:
    # The control: with 16 records open at once and a list of 5, some GUIDs are lost.
    right, wrong = asyncio.run(_resolve_all(window=16, shown=5))
    assert wrong > 0 and right + wrong == 200


def test_plan_reports_one_id_column_per_contact_block() -> None:
    mapping = parse_mapping(
        {
            "kind": "property-with-contacts",
            "property": {"fields": {"address": "A"}},
            "contacts": [{"label": "Tenant", "fields": {"fullname": "T"}, "relation": {"IsTenant": True}}] * 1
            + [{"label": f"Owner {i}", "fields": {"fullname": f"O{i}"}} for i in (1, 2)],
        }
    )
    plan = GraphPlan(mapping.bind(["A", "T", "O1", "O2"]))
    assert plan.outcome_columns == [
        "status", "property_id", "contact_1_id", "contact_2_id", "contact_3_id", "error", "warnings",
    ]  # fmt: skip
    assert plan.kinds == {"property", "contact"}


def test_a_graph_report_loads_back_as_the_input_it_reports(tmp_path: Path) -> None:
    validate_file(OWNERS_SAMPLE, PROPSTREAM, report=tmp_path / "v.csv")
    again = open_source(tmp_path / "v.csv")
    assert again.headers == open_source(OWNERS_SAMPLE).headers  # row/status/ids/error/warnings dropped
    result = validate_file(tmp_path / "v.csv", PROPSTREAM, report=False)
    assert result.counts == {"valid": 12, "invalid": 1}


# -- resuming with the ledger ------------------------------------------------------------------------


def run_with_ledger(data: Path, mapping: Path, sb: SandboxServer, ledger_path: Path, key: str) -> pd.DataFrame:
    """What push does, with the plan's memory in the ledger: every chunk's outcomes."""
    from importer.ledger import Journal, Ledger, scope_of
    from importer.plans.resume import LedgerGraphState
    from importer.push.client import RealeflowClient

    async def go() -> pd.DataFrame:
        with Ledger.open(ledger_path) as ledger:
            scope = scope_of(str(sb.url))
            journal = Journal(ledger, scope, ledger.start_run(scope, "push", str(data)))
            source = open_source(data)
            plan = GraphPlan(load_mapping(mapping).bind(source.headers), state=LedgerGraphState(journal))
            async with RealeflowClient(key, str(sb.url), concurrency=8) as client:
                pusher = Pusher(client, PushSettings(concurrency=8, backoff_base=0.01))
                await pusher.prime(plan.kinds)
                out = [(await plan.push(plan.validate(chunk), pusher))[0] for chunk in source.chunks(40)]
            return pd.concat(out)

    return asyncio.run(go())


def test_a_run_stopped_halfway_is_completed_by_a_rerun_without_duplicates(tmp_path: Path) -> None:
    rows = generated_rows(120, seed=4)
    data, mapping, ledger = write_csv(tmp_path / "list.csv", rows), write_mapping(tmp_path), tmp_path / "l.sqlite3"
    with SandboxServer(faults=Faults(revoke_after=150)) as sb:
        first = run_with_ledger(data, mapping, sb, ledger, sb.api_key)
        assert {"created", "not-sent"} <= set(first["status"])
        made = sb.store.count("properties")
        assert 0 < made < len({r["Property Address"] for r in rows})
        sb.faults.revoke_after = None  # the key works again
        second = run_with_ledger(data, mapping, sb, ledger, sb.api_key)
        rep = second.astype({c: "string" for c in second.columns}).fillna("").astype(str)
        rep.index = rep.index.astype(str)
        # Rows done in the first run are skipped with their earlier ids; the rest are created now.
        done = first.index[first["status"] == "created"]
        assert set(second.loc[done, "status"]) == {"skipped"}
        assert (second.loc[done, "property_id"] == first.loc[done, "property_id"]).all()
        assert set(second["status"]) <= {"created", "skipped"}
        check_server_matches_report(sb, rows, rep.replace({"skipped": "created"}))
        assert sb.store.count("properties") == len({r["Property Address"] for r in rows})


def test_force_sends_again_what_an_earlier_run_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the CLI with a ledger: a re-run skips every part; --force creates the graph once more."""
    from importer.cli import main

    rows = generated_rows(12, seed=9)
    data, mapping, ledger = write_csv(tmp_path / "list.csv", rows), write_mapping(tmp_path), tmp_path / "l.sqlite3"
    with SandboxServer() as sb:
        monkeypatch.setenv("REALEFLOW_API_URL", sb.url)
        monkeypatch.setenv("REALEFLOW_API_KEY", sb.api_key)
        base = ["push", str(data), "-m", str(mapping), "--ledger", str(ledger), "-q"]
        assert main([*base, "--report", str(tmp_path / "r1.csv")]) == 0
        counts = (sb.store.count("properties"), sb.store.count("contacts"), len(sb.store.relations()))
        assert main([*base, "--report", str(tmp_path / "r2.csv")]) == 0
        again = pd.read_csv(tmp_path / "r2.csv", dtype=str, keep_default_na=False)
        assert set(again["status"]) == {"skipped"}
        assert (sb.store.count("properties"), sb.store.count("contacts"), len(sb.store.relations())) == counts
        assert main([*base, "--force", "--report", str(tmp_path / "r3.csv")]) == 0
        forced = pd.read_csv(tmp_path / "r3.csv", dtype=str, keep_default_na=False)
        assert set(forced["status"]) == {"created"}
        assert sb.store.count("properties") == 2 * counts[0]
        assert sb.store.count("contacts") == 2 * counts[1]
        assert len(sb.store.relations()) == 2 * counts[2]


def test_a_part_whose_answer_was_lost_and_not_found_is_not_sent_again_by_a_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create reported "may have been created" is left alone by later runs (--retry-failed resends it)."""
    from importer.push.pusher import Outcome

    rows = generated_rows(12, seed=6)
    data, mapping, ledger = write_csv(tmp_path / "list.csv", rows), write_mapping(tmp_path), tmp_path / "l.sqlite3"
    real_send = Pusher.send
    lost: list[int] = []

    async def send(self: Pusher, job: Job) -> Outcome:
        outcome = await real_send(self, job)
        if job.kind == "property" and not lost and outcome.status == "created":
            lost.append(job.row)  # created on the server, but as if its answer was lost and never found
            return Outcome(job.row, "failed", error="connection dropped; it may have been created", maybe_created=True)
        return outcome

    with SandboxServer() as sb:
        monkeypatch.setattr(Pusher, "send", send)
        first = run_with_ledger(data, mapping, sb, ledger, sb.api_key)
        monkeypatch.undo()
        assert lost and first.loc[lost[0], "status"] == "failed"
        made = sb.store.count("properties")
        second = run_with_ledger(data, mapping, sb, ledger, sb.api_key)
        assert sb.store.count("properties") == made, "a property that may exist was sent again"
        assert "--retry-failed" in second.loc[lost[0], "error"]
