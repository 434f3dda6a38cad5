"""The sandbox over a real loopback socket: contract, rejections, lists, relations, faults, request log."""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.errors import UsageError
from importer.sandbox import (
    FIRST_IDS,
    Faults,
    SandboxServer,
    SandboxStore,
    add_sandbox_arguments,
    export_lines,
    faults_from_args,
)
from importer.sandbox.rules import RELATION_FLAGS, STATE_CODES, check_contact, check_property

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

#: The reference's own example bodies, verbatim (lowercase keys).
REFERENCE_CONTACT = {
    "fullname": "John Smith",
    "email": "test@email.com",
    "companyname": "Test LLC",
    "phone": "1112224444",
    "phonetype": "Work",
    "source": "google ads 1",
    "address": "123 Main St",
    "city": "Cleveland",
    "state": "OH",
    "zipcode": "44113",
    "type": ["buyer", "seller"],
    "tags": ["sms opt-in", "active investors"],
    "customfields": ["this is custom 1", "custom 2", None, "custom 4"],
}
REFERENCE_PROPERTY = {
    "address": "123 Main St",
    "city": "Cleveland",
    "state": "OH",
    "zipcode": "44113",
    "tags": ["sms opt-in", "active properties"],
    "customfields": ["this is custom 1", "custom 2", None, "custom 4"],
}
CONTACT_LIST_KEYS = [
    "id",
    "contactId",
    "fullName",
    "email",
    "companyName",
    "phone",
    "phoneType",
    "mobilePhoneDigits",
    "fax",
    "source",
    "address",
    "city",
    "state",
    "zipCode",
    "created",
    "customFields",
    "tags",
]
PROPERTY_LIST_KEYS = [
    "id",
    "propertyId",
    "address",
    "city",
    "state",
    "zipCode",
    "source",
    "created",
    "customFields",
    "tags",
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer()
    with server:
        yield server
    server.close()


@pytest.fixture(autouse=True)
def fresh(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that uses the shared server starts with no records and no faults."""
    if "sandbox" in request.fixturenames:
        server: SandboxServer = request.getfixturevalue("sandbox")
        server.faults = Faults()
        server.store.reset()
    yield


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, auth=(sandbox.api_key, ""), timeout=5) as c:
        yield c


def create(client: httpx.Client, kind: str, body: Any) -> dict[str, Any]:
    response = client.post(f"/api/{kind}/create", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def two_records(client: httpx.Client) -> tuple[str, str]:
    """A contact and a property; return their GUIDs as the list endpoints show them."""
    create(client, "contact", {"fullname": "Ann Owner"})
    create(client, "property", {"address": "1 Elm St"})
    contact = client.get("/api/contact/list").json()[0]["id"]
    prop = client.get("/api/property/list").json()[0]["id"]
    return contact, prop


# -- auth ---------------------------------------------------------------------------------------


def basic(text: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(text.encode()).decode()}


def test_the_key_as_user_name_with_blank_password_is_accepted(sandbox: SandboxServer) -> None:
    response = httpx.get(sandbox.url + "/api/account/status", auth=(sandbox.api_key, ""))
    assert response.status_code == 200
    assert response.json() == {"AccountStatus": "Active"}
    # The reference's header text reads as base64 of the bare key; accepted too.
    assert httpx.get(sandbox.url + "/api/account/status", headers=basic(sandbox.api_key)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no header"),
        pytest.param("wrong-key:", id="wrong key"),
        pytest.param(":", id="blank key"),
        pytest.param("{key}:secret", id="non-blank password"),
        pytest.param(":{key}", id="key as password"),
        pytest.param({"Authorization": "Bearer {key}"}, id="bearer"),
        pytest.param({"Authorization": "Basic not base64!"}, id="garbage"),
    ],
)
@pytest.mark.parametrize("method, path", [("GET", "/api/contact/list"), ("POST", "/api/contact/create")])
def test_anything_else_is_401_and_nothing_is_stored(
    sandbox: SandboxServer, headers: Any, method: str, path: str
) -> None:
    if isinstance(headers, str):
        headers = basic(headers.format(key=sandbox.api_key))
    else:
        headers = {k: v.format(key=sandbox.api_key) for k, v in headers.items()}
    response = httpx.request(method, sandbox.url + path, headers=headers, json={"fullname": "Eve"})
    assert response.status_code == 401
    assert len(response.content) < 100
    assert sandbox.store.count("contacts") == 0
    assert [r["outcome"] for r in sandbox.store.requests()] == ["unauthorized"]


# -- creates ------------------------------------------------------------------------------------


def test_reference_contact_example_is_created_and_stored_as_sent(client: httpx.Client, sandbox: SandboxServer) -> None:
    answer = create(client, "contact", REFERENCE_CONTACT)
    assert answer == {"Successful": True, "Id": FIRST_IDS["contacts"], "Error": None} or (
        answer["Successful"] and answer["Id"] > FIRST_IDS["contacts"] and answer["Error"] is None
    )
    [stored] = sandbox.store.contacts()
    assert stored["contact_id"] == answer["Id"]
    assert GUID.fullmatch(stored["guid"])
    expected = {**REFERENCE_CONTACT, "type": ["Buyer", "Seller"]}
    assert {k: stored[k] for k in expected} == expected


def test_pascal_case_and_mixed_case_keys_are_the_same_fields(client: httpx.Client, sandbox: SandboxServer) -> None:
    pascal = {
        "FullName": "Jane Roe",
        "CompanyName": "Roe Inc",
        "PhoneType": "home",
        "Phone": "2165550100",
        "State": "oh",
        "ZipCode": "02134",
        "Type": ["Seller"],
        "Tags": [],
        "CustomFields": [None] * 27 + ["last"],
    }
    assert create(client, "contact", pascal)["Successful"]
    assert create(client, "property", {"ADDRESS": "9 Oak Ave", "zipCode": "02134", "Source": "VA"})["Successful"]
    [contact] = sandbox.store.contacts()
    assert contact["fullname"] == "Jane Roe"
    assert contact["phonetype"] == "Home"  # case-insensitive, stored canonical
    assert contact["zipcode"] == "02134"  # leading zero kept
    assert contact["customfields"][-1] == "last"
    [prop] = sandbox.store.properties()
    assert (prop["address"], prop["zipcode"], prop["source"]) == ("9 Oak Ave", "02134", "VA")


def test_ids_increase_in_separate_sequences_that_do_not_look_like_row_numbers(
    client: httpx.Client,
) -> None:
    contacts = [create(client, "contact", {"fullname": f"C{i}"})["Id"] for i in range(3)]
    props = [create(client, "property", {"address": f"{i} Main"})["Id"] for i in range(2)]
    assert contacts == sorted(contacts) and len(set(contacts)) == 3
    assert props == sorted(props) and len(set(props)) == 2
    assert min(contacts) >= FIRST_IDS["contacts"] and min(props) >= FIRST_IDS["properties"]
    assert contacts[1] - contacts[0] == 1 and props[1] - props[0] == 1


def test_phone_type_defaults_to_mobile(client: httpx.Client, sandbox: SandboxServer) -> None:
    create(client, "contact", {"fullname": "A", "phone": "(216) 555-0100"})
    assert sandbox.store.contacts()[0]["phonetype"] == "Mobile"
    item = client.get("/api/contact/list").json()[0]
    assert (item["phoneType"], item["mobilePhoneDigits"]) == ("Mobile", "12165550100")


CONTACT_REJECTIONS = [
    ({"email": "a@b.c"}, "FullName is required"),
    ({"fullname": "   "}, "FullName is required"),
    ({"fullname": None}, "FullName is required"),
    ({"fullname": 42}, "FullName must be a string"),
    ({"fullname": "A", "state": "XX"}, "State 'XX' is not a two-letter US state code"),
    ({"fullname": "A", "state": "Ohio"}, "State 'Ohio'"),
    ({"fullname": "A", "state": " OH"}, "State ' OH'"),
    ({"fullname": "A", "zipcode": "4411"}, "ZipCode '4411' is not a five-digit"),
    ({"fullname": "A", "zipcode": "44113-1234"}, "ZipCode '44113-1234'"),
    ({"fullname": "A", "zipcode": "４４１１３"}, "ZipCode"),  # full-width digits are not ASCII digits
    ({"fullname": "A", "zipcode": 44113}, "ZipCode must be a string or null, got number"),
    ({"fullname": "A", "phonetype": "Cell"}, "PhoneType 'Cell' must be Mobile, Work or Home"),
    ({"fullname": "A", "type": "Buyer"}, "Type must be an array"),
    ({"fullname": "A", "type": ["Buyer", "Agent"]}, "Type[1] 'Agent' must be Buyer or Seller"),
    ({"fullname": "A", "tags": "vip"}, "Tags must be an array of strings"),
    ({"fullname": "A", "tags": ["ok", None]}, "Tags[1] must be a string"),
    ({"fullname": "A", "customfields": ["x"] * 29}, "CustomFields has 29 entries; at most 28"),
    ({"fullname": "A", "customfields": [1]}, "CustomFields[0] must be a string or null"),
    ({"fullname": "A", "customfields": {"1": "x"}}, "CustomFields must be an array"),
    ({"fullname": "A", "customfield_1": "x"}, "Unknown field 'customfield_1'"),
    ({"fullname": "A", "FullName": "B"}, "FullName is given twice"),
]


@pytest.mark.parametrize("body, expected", CONTACT_REJECTIONS, ids=[e for _, e in CONTACT_REJECTIONS])
def test_documented_contact_rejections(
    client: httpx.Client, sandbox: SandboxServer, body: dict[str, Any], expected: str
) -> None:
    answer = create(client, "contact", body)
    assert answer["Successful"] is False and answer["Id"] == 0
    assert expected in answer["Error"]
    assert sandbox.store.count("contacts") == 0
    [logged] = sandbox.store.requests("/api/contact/create")
    assert (logged["outcome"], logged["error"]) == ("rejected", answer["Error"])


PROPERTY_REJECTIONS = [
    ({"city": "Cleveland"}, "Address is required for a property"),
    ({"address": "1 Main", "state": "ZZ"}, "State 'ZZ'"),
    ({"address": "1 Main", "zipcode": "abcde"}, "ZipCode 'abcde'"),
    ({"address": "1 Main", "fullname": "A"}, "Unknown field 'fullname' for a property"),
    ({"address": "1 Main", "type": ["Buyer"]}, "Unknown field 'type'"),
    ({"address": "1 Main", "customfields": [None] * 30}, "CustomFields has 30 entries"),
]


@pytest.mark.parametrize("body, expected", PROPERTY_REJECTIONS, ids=[e for _, e in PROPERTY_REJECTIONS])
def test_documented_property_rejections(
    client: httpx.Client, sandbox: SandboxServer, body: dict[str, Any], expected: str
) -> None:
    answer = create(client, "property", body)
    assert (answer["Successful"], answer["Id"]) == (False, 0)
    assert expected in answer["Error"]
    assert sandbox.store.count("properties") == 0


def test_every_problem_of_a_body_is_reported_at_once(client: httpx.Client) -> None:
    error = create(client, "contact", {"state": "XX", "zipcode": "1", "bogus": 1})["Error"]
    for part in ("Unknown field 'bogus'", "FullName is required", "State 'XX'", "ZipCode '1'"):
        assert part in error


@pytest.mark.parametrize(
    "content, content_type, status, expected",
    [
        (b"{not json", "application/json", 400, "not valid UTF-8 JSON"),
        (b"[1, 2]", "application/json", 400, "must be a JSON object, got array"),
        (b'"text"', "application/json", 400, "must be a JSON object, got string"),
        (b"", "application/json", 400, "body is empty"),
        (b'{"fullname": NaN}', "application/json", 400, "not valid"),
        (b"\xff\xfe", "application/json", 400, "not valid UTF-8"),
        (b'{"fullname": "A"}', "text/plain", 415, "Content-Type must be application/json"),
        (b"fullname=A", "application/x-www-form-urlencoded", 415, "Content-Type"),
    ],
)
def test_bodies_that_are_not_a_json_object(
    client: httpx.Client, sandbox: SandboxServer, content: bytes, content_type: str, status: int, expected: str
) -> None:
    response = client.post("/api/contact/create", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    answer = response.json()
    assert (answer["Successful"], answer["Id"]) == (False, 0) and expected in answer["Error"]
    assert sandbox.store.count("contacts") == 0
    assert sandbox.store.requests()[-1]["outcome"] == "bad_request"


def test_paths_ignore_case_like_aspnet(client: httpx.Client, sandbox: SandboxServer) -> None:
    assert create(client, "Contact", {"fullname": "A"})["Successful"]
    assert client.get("/API/Contact/List").status_code == 200
    assert sandbox.store.count("contact") == 1


# -- lists --------------------------------------------------------------------------------------


def test_contact_list_is_the_25_newest_newest_first_in_the_reference_shape(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    create(client, "contact", REFERENCE_CONTACT)
    for i in range(29):
        create(client, "contact", {"fullname": f"Person {i}"})
    response = client.get("/api/contact/list")
    assert response.headers["content-type"].startswith("application/json")
    items = response.json()
    assert isinstance(items, list) and len(items) == 25
    assert all(list(item) == CONTACT_LIST_KEYS for item in items)
    ids = [item["contactId"] for item in items]
    assert ids == sorted(ids, reverse=True)
    stored = sandbox.store.contacts()
    assert ids == [c["contact_id"] for c in reversed(stored)][:25]
    assert items[0]["fullName"] == "Person 28"
    assert [item["id"] for item in items] == [c["guid"] for c in reversed(stored)][:25]
    assert all(GUID.fullmatch(item["id"]) for item in items)
    assert items[0]["tags"] == [] and items[0]["customFields"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", items[0]["created"])


def test_property_list_shape_and_values(client: httpx.Client) -> None:
    first = create(client, "property", REFERENCE_PROPERTY)["Id"]
    second = create(client, "property", {"address": "2 Main"})["Id"]
    items = client.get("/api/property/list").json()
    assert [item["propertyId"] for item in items] == [second, first]
    assert all(list(item) == PROPERTY_LIST_KEYS for item in items)
    older = items[1]
    assert (older["address"], older["zipCode"], older["state"]) == ("123 Main St", "44113", "OH")
    assert older["customFields"] == REFERENCE_PROPERTY["customfields"]
    assert older["tags"] == REFERENCE_PROPERTY["tags"]


# -- relations ----------------------------------------------------------------------------------


def test_relation_between_known_guids_any_case_and_padded(client: httpx.Client, sandbox: SandboxServer) -> None:
    contact, prop = two_records(client)
    body = {"PropertyId": prop.upper(), "ContactId": " " + contact, **dict.fromkeys(RELATION_FLAGS, "false")}
    body.update({"IsOwner": "true", "IsPrimaryContact": True, "IsTenant": "TRUE"})
    response = client.post("/api/contact/propertyrelation", json=body)
    answer = response.json()
    assert answer["Successful"] is True and answer["Id"] >= FIRST_IDS["relations"]
    [relation] = sandbox.store.relations()
    assert relation["relation_id"] == answer["Id"]
    assert (relation["contact_guid"], relation["property_guid"]) == (contact, prop)
    assert relation["contact_id"] == sandbox.store.contacts()[0]["contact_id"]
    on = {flag for flag in RELATION_FLAGS if relation[flag]}
    assert on == {"IsOwner", "IsPrimaryContact", "IsTenant"}


def test_relation_flags_may_be_left_out_and_keys_lowercase(client: httpx.Client, sandbox: SandboxServer) -> None:
    contact, prop = two_records(client)
    body = {"propertyid": prop, "contactid": contact, "isowner": False}
    assert client.post("/api/contact/propertyrelation", json=body).json()["Successful"] is True
    assert not any(sandbox.store.relations()[0][flag] for flag in RELATION_FLAGS)


RELATION_REJECTIONS = [
    ({"PropertyId": "{p}", "ContactId": "00000000-0000-0000-0000-000000000000"}, "no contact has ContactId"),
    ({"PropertyId": "00000000-0000-0000-0000-000000000000", "ContactId": "{c}"}, "no property has PropertyId"),
    ({"PropertyId": "{p}", "ContactId": " EJ1A29D1-B64D-43ED-A324-322AFE99410D"}, "is not a GUID"),
    ({"PropertyId": "{p}", "ContactId": 335000}, "ContactId must be a GUID string"),
    ({"PropertyId": "{p}"}, "ContactId is required"),
    ({"PropertyId": "{p}", "ContactId": "{c}", "IsOwner": "yes"}, "IsOwner must be true or false"),
    ({"PropertyId": "{p}", "ContactId": "{c}", "IsLienContact": 1}, "IsLienContact must be true or false"),
    ({"PropertyId": "{p}", "ContactId": "{c}", "IsBuyer": "true"}, "Unknown field 'IsBuyer'"),
]


@pytest.mark.parametrize("body, expected", RELATION_REJECTIONS, ids=[e for _, e in RELATION_REJECTIONS])
def test_relation_rejections(client: httpx.Client, sandbox: SandboxServer, body: dict[str, Any], expected: str) -> None:
    contact, prop = two_records(client)
    body = {k: v.format(c=contact, p=prop) if isinstance(v, str) else v for k, v in body.items()}
    answer = client.post("/api/contact/propertyrelation", json=body).json()
    assert (answer["Successful"], answer["Id"]) == (False, 0)
    assert expected in answer["Error"]
    assert sandbox.store.count("relations") == 0
    assert sandbox.store.requests("/api/contact/propertyrelation")[0]["outcome"] == "rejected"


# -- account status -----------------------------------------------------------------------------


def test_account_status_is_live_and_an_inactive_account_creates_nothing(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.account_status = "Suspended"
    assert client.get("/api/account/status").json() == {"AccountStatus": "Suspended"}
    answer = create(client, "contact", {"fullname": "A"})
    assert answer["Successful"] is False and "Suspended" in answer["Error"]
    assert sandbox.store.count("contacts") == 0


# -- faults -------------------------------------------------------------------------------------


def test_latency_is_added_to_every_answer(client: httpx.Client, sandbox: SandboxServer) -> None:
    client.get("/api/account/status")  # warm the connection
    start = time.perf_counter()
    client.get("/api/account/status")
    fast = time.perf_counter() - start
    sandbox.faults.latency_ms = 150
    for call in (lambda: client.get("/api/account/status"), lambda: create(client, "contact", {"fullname": "A"})):
        start = time.perf_counter()
        call()
        assert time.perf_counter() - start >= 0.15
    assert fast < 0.1


def test_latency_does_not_block_other_requests(sandbox: SandboxServer) -> None:
    sandbox.faults.latency_ms = 300
    results: list[float] = []

    def one() -> None:
        start = time.perf_counter()
        httpx.get(sandbox.url + "/api/account/status", auth=(sandbox.api_key, ""))
        results.append(time.perf_counter() - start)

    threads = [threading.Thread(target=one) for _ in range(6)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and time.perf_counter() - start < 1.2  # 6 x 0.3 s serially would be 1.8 s


def test_error_fault_is_500_and_stores_nothing(client: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.faults.error_rate = 1.0
    response = client.post("/api/contact/create", json={"fullname": "A"})
    assert response.status_code == 500
    assert sandbox.store.count("contacts") == 0
    [logged] = sandbox.store.requests()
    assert (logged["status"], logged["outcome"], logged["fault"]) == (500, "fault", "error")
    assert client.get("/api/contact/list").status_code == 200  # lists get latency only


def test_rate_limit_fault_is_429_with_retry_after(client: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.faults.rate_limit_rate = 1.0
    sandbox.faults.retry_after = 2
    response = client.post("/api/property/create", json={"address": "1 Main"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert sandbox.store.count("properties") == 0
    assert sandbox.store.requests()[0]["fault"] == "rate_limit"


def test_timeout_fault_hangs_past_the_client_timeout_and_stores_nothing(sandbox: SandboxServer) -> None:
    sandbox.faults.timeout_rate = 1.0
    sandbox.faults.hang_seconds = 0.5
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(sandbox.url + "/api/contact/create", json={"fullname": "A"}, auth=(sandbox.api_key, ""), timeout=0.2)
    deadline = time.monotonic() + 3
    while not sandbox.store.requests() and time.monotonic() < deadline:
        time.sleep(0.05)
    [logged] = sandbox.store.requests()
    assert (logged["status"], logged["fault"]) == (500, "timeout")
    assert sandbox.store.count("contacts") == 0


def test_lost_answer_stores_the_record_but_the_client_gets_an_exception(
    client: httpx.Client, sandbox: SandboxServer
) -> None:
    sandbox.faults.lost_answer_rate = 1.0
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/api/contact/create", json={"fullname": "Lost Larry"})
    [stored] = sandbox.store.contacts()
    assert stored["fullname"] == "Lost Larry"
    [logged] = sandbox.store.requests()
    assert (logged["outcome"], logged["fault"], logged["record_id"]) == ("created", "lost_answer", stored["contact_id"])
    sandbox.faults.lost_answer_rate = 0.0
    assert create(client, "contact", {"fullname": "Next"})["Successful"]  # the client recovers


def test_revoke_after_n_stored_creates_everything_is_401(client: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.faults.revoke_after = 2
    assert create(client, "contact", {"fullname": "A"})["Successful"]
    assert create(client, "contact", {"state": "XX"})["Successful"] is False  # rejections do not count
    assert create(client, "property", {"address": "1 Main"})["Successful"]
    assert client.post("/api/contact/create", json={"fullname": "C"}).status_code == 401
    assert client.get("/api/account/status").status_code == 401
    assert sandbox.store.count("contacts") == 1
    assert sandbox.store.requests()[-1]["outcome"] == "revoked"


def test_fault_shares_are_seeded_and_reproducible() -> None:
    a, b = Faults(error_rate=0.3, rate_limit_rate=0.2, seed=7), Faults(error_rate=0.3, rate_limit_rate=0.2, seed=7)
    draws = [a.draw() for _ in range(2000)]
    assert draws == [b.draw() for _ in range(2000)]
    assert 0.25 < draws.count("error") / 2000 < 0.35
    assert 0.15 < draws.count("rate_limit") / 2000 < 0.25
    assert draws.count(None) + draws.count("error") + draws.count("rate_limit") == 2000
    a.seed = 7
    assert [a.draw() for _ in range(50)] == draws[:50]


def test_fault_values_are_checked_even_when_changed_live() -> None:
    with pytest.raises(UsageError, match="add up to"):
        Faults(error_rate=0.6, timeout_rate=0.6)
    faults = Faults()
    with pytest.raises(UsageError, match="error_rate"):
        faults.error_rate = 1.5
    with pytest.raises(UsageError, match="latency_ms"):
        faults.latency_ms = -1
    with pytest.raises(UsageError, match="revoke_after"):
        faults.revoke_after = -3


def test_stop_is_not_held_up_by_hanging_requests() -> None:
    server = SandboxServer(faults=Faults(timeout_rate=1.0, hang_seconds=30))
    with server:
        errors: list[BaseException] = []

        def hang() -> None:
            try:
                httpx.post(server.url + "/api/contact/create", json={"fullname": "A"}, auth=(server.api_key, ""))
            except httpx.HTTPError as exc:
                errors.append(exc)

        thread = threading.Thread(target=hang)
        thread.start()
        time.sleep(0.2)
        start = time.perf_counter()
    assert time.perf_counter() - start < 5
    thread.join(5)
    server.close()


# -- request log and store ----------------------------------------------------------------------


def test_request_log_holds_exactly_what_was_received(client: httpx.Client, sandbox: SandboxServer) -> None:
    raw = '{"FullName": "Ann", "Tags": ["a"]}'
    client.post("/api/contact/create", content=raw, headers={"Content-Type": "application/json"})
    client.get("/api/contact/list")
    log = sandbox.store.requests()
    assert [(r["method"], r["path"], r["status"], r["outcome"]) for r in log] == [
        ("POST", "/api/contact/create", 200, "created"),
        ("GET", "/api/contact/list", 200, "ok"),
    ]
    assert log[0]["body"] == raw and log[1]["body"] is None
    assert [r["path"] for r in sandbox.store.requests("/api/contact/list")] == ["/api/contact/list"]


def test_reset_forgets_everything_but_ids_keep_growing(client: httpx.Client, sandbox: SandboxServer) -> None:
    first = create(client, "contact", {"fullname": "A"})["Id"]
    sandbox.store.reset()
    assert sandbox.store.count("contacts") == sandbox.store.count("requests") == 0
    assert create(client, "contact", {"fullname": "B"})["Id"] == first + 1
    with pytest.raises(ValueError, match="unknown kind"):
        sandbox.store.count("leads")


def test_a_database_file_persists_and_ids_continue(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    with SandboxServer(db_path=db, api_key="fixed-key") as server:
        assert server.api_key == "fixed-key"
        last = httpx.post(server.url + "/api/property/create", json={"address": "1 Main"}, auth=("fixed-key", ""))
    server.close()
    store = SandboxStore(db)
    assert store.count("properties") == 1
    assert store.recent("property")[0]["property_id"] == last.json()["Id"]
    store.close()


def test_hosts_other_than_loopback_are_refused() -> None:
    with pytest.raises(UsageError, match="loopback"):
        SandboxServer(host="0.0.0.0")
    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--host", "192.168.1.5"])


def test_command_line_options_make_faults() -> None:
    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    args = parser.parse_args(
        ["--port", "0", "--latency-ms", "50", "--error-rate", "0.1", "--rate-limit-rate", "0.05",
         "--revoke-after", "10", "--account-status", "Suspended", "--seed", "3"]
    )  # fmt: skip
    faults = faults_from_args(args)
    assert (faults.latency_ms, faults.error_rate, faults.rate_limit_rate) == (50, 0.1, 0.05)
    assert (faults.revoke_after, faults.account_status, faults.seed) == (10, "Suspended", 3)
    with pytest.raises(SystemExit):
        parser.parse_args(["--error-rate", "1.5"])
    with pytest.raises(UsageError):
        faults_from_args(parser.parse_args(["--error-rate", "0.7", "--lost-answer-rate", "0.7"]))


def test_module_entry_point_prints_exports_and_serves() -> None:
    env = {**os.environ, "REALEFLOW_SANDBOX_KEY": "key-from-env"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "importer.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url_line, key_line = proc.stdout.readline().strip(), proc.stdout.readline().strip()
        url = url_line.removeprefix("export REALEFLOW_API_URL=")
        assert [url_line, key_line] == export_lines(url, "key-from-env")
        assert httpx.get(url + "/api/account/status", auth=("key-from-env", "")).json()["AccountStatus"] == "Active"
    finally:
        proc.send_signal(2)  # SIGINT, as Ctrl-C
        assert proc.wait(10) == 0


# -- the rules, property-based --------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=8))
def test_zip_codes_pass_exactly_when_five_ascii_digits(zipcode: str) -> None:
    ok = check_property({"address": "1 Main", "zipcode": zipcode}).ok
    assert ok == (zipcode == "" or (len(zipcode) == 5 and all(c in "0123456789" for c in zipcode)))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.sampled_from(sorted(STATE_CODES)), st.text(max_size=3)), st.booleans())
def test_states_pass_exactly_when_a_code_in_any_case(state: str, lower: bool) -> None:
    state = state.lower() if lower else state
    ok = check_contact({"fullname": "A", "state": state}).ok
    assert ok == (state == "" or state.upper() in STATE_CODES)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=13, max_size=13))
def test_key_case_never_changes_the_record(upper: list[bool]) -> None:
    body = {(k.upper() if u else k): v for (k, v), u in zip(REFERENCE_CONTACT.items(), upper, strict=True)}
    assert check_contact(body).record == check_contact(REFERENCE_CONTACT).record
    assert check_contact(body).ok


def test_an_answer_is_valid_json_with_the_reference_keys(client: httpx.Client) -> None:
    response = client.post("/api/contact/create", json={"fullname": "A"})
    assert list(json.loads(response.content)) == ["Successful", "Id", "Error"]
