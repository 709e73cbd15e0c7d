"""Free text, slugs and ids over HTTP: a 400 problem naming the field, in the domain's
words, for what no text may hold (NUL, a lone surrogate sent as the JSON escape
``"\\ud800"``, control characters) and for text over its limit; text at its limit is
recorded; a refusal appends nothing and keeps no receipt; and the schema states every
request text field's ``maxLength`` (and ``pattern``), as the domain keeps them."""

import datetime as dt
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest

from consortium import services as s
from ledger import store
from ledger.models import Receipt
from tests.consortium.conftest import usd

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
A = "/api/v1/consortia/aip/"
D = "2025-02-10"


def _draft_call(alice: s.Actor, bob: s.Actor) -> None:
    s.capital_call_prepare(
        actor=alice,
        slug="aip",
        call_id="call-2",
        amount=usd("1.00"),
        due_on=dt.date(2025, 4, 1),
        purpose="Power",
        effective_on=dt.date(2025, 2, 5),
    )


def _contribution(alice: s.Actor, bob: s.Actor) -> None:
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="c-1",
        call_id="call-1",
        organisation_id="mgx",
        amount=usd("1.00"),
        bank_reference="WIRE",
        received_on=dt.date(2025, 2, 5),
    )


def _nothing(alice: s.Actor, bob: s.Actor) -> None:
    pass


ASSET = {
    "asset_id": "dc-9",
    "sponsor": "aip",
    "kind": "data_centre",
    "name": "DC",
    "location": "Texas",
    "capacity_mw": "10",
    "estimated_cost": "10.00",
    "effective_on": "2025-01-06",
}
# name: (path, body, the text field, its limit, several lines, role, set-up)
TEXT_FIELDS: dict[str, tuple[str, dict[str, Any], str, int, bool, str, Callable[..., None]]] = {
    "consortium name": (
        "/api/v1/consortia/",
        {"slug": "newco", "base_currency": "USD", "formed_on": "2025-01-01"},
        "name",
        200,
        False,
        "deal_team",
        _nothing,
    ),
    "partner name": (
        A + "partners/",
        {"organisation_id": "xai", "role": "member", "effective_on": D},
        "name",
        200,
        False,
        "deal_team",
        _nothing,
    ),
    "call purpose": (
        A + "capital-calls/",
        {"call_id": "call-9", "amount": "1.00", "due_on": "2025-04-01", "effective_on": D},
        "purpose",
        1000,
        True,
        "deal_team",
        _nothing,
    ),
    "cancellation reason": (
        A + "capital-calls/call-2/cancel/",
        {"effective_on": D},
        "reason",
        1000,
        True,
        "deal_team",
        _draft_call,
    ),
    "bank reference": (
        A + "capital-calls/call-1/contributions/",
        {"contribution_id": "c-9", "organisation_id": "mgx", "amount": "1.00", "received_on": D},
        "bank_reference",
        200,
        False,
        "finance",
        _nothing,
    ),
    "reversal reason": (
        A + "capital-calls/call-1/contributions/c-1/reverse/",
        {"effective_on": D},
        "reason",
        1000,
        True,
        "finance",
        _contribution,
    ),
    "asset name": ("/api/v1/assets/", ASSET, "name", 200, False, "deal_team", _nothing),
    "asset location": ("/api/v1/assets/", ASSET, "location", 200, False, "deal_team", _nothing),
}
FIELDS = sorted(TEXT_FIELDS)


@pytest.fixture
def given(issued_call, alice, bob, api_client_for) -> Callable[[str], Callable[[bytes], Any]]:
    """``given(name)`` sets up what ``name``'s endpoint needs and returns ``send(raw)``:
    a POST of ``raw`` JSON bytes with a new Idempotency-Key, as the endpoint's role."""

    keys = itertools.count(1)

    def ready(name: str) -> Callable[[bytes], Any]:
        path, _, _, _, _, role, setup = TEXT_FIELDS[name]
        setup(alice, bob)
        api = api_client_for(role)

        def send(raw: bytes) -> Any:
            key = f"text-{next(keys)}"
            return api.post(path, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)

        return send

    return ready


def _body(name: str, text_json: str) -> bytes:
    """The endpoint's body with its text field written as ``text_json`` (raw JSON)."""
    _, body, field, _, _, _, _ = TEXT_FIELDS[name]
    rest = json.dumps(body)[1:-1]
    return f'{{{rest}, "{field}": {text_json}}}'.encode()


def _refused(response: Any, field: str, words: str = "") -> dict[str, Any]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    problem: dict[str, Any] = response.json()
    assert field in problem["errors"], problem
    assert words in " ".join(problem["errors"][field]), problem
    return problem


@pytest.mark.parametrize("name", FIELDS)
def test_text_at_its_limit_is_201_and_one_character_more_is_400_naming_the_field(given, name):
    _, _, field, limit, _, _, _ = TEXT_FIELDS[name]
    send = given(name)
    head = store.head()
    text = "é" * (limit - 1) + "x"
    at = send(_body(name, json.dumps(f" {text}  ")))
    assert at.status_code == 201, at.content
    assert store.read_all(after=head, limit=1)[0].data[field] == text
    head = store.head()
    over = send(_body(name, json.dumps("é" * limit + "x")))
    _refused(over, field, f"at most {limit:,}")
    assert store.head() == head


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize(
    ("escape", "words"),
    [
        ("\\u0000", "NUL"),
        ("\\ud800", "surrogate"),
        ("\\udc00", "surrogate"),
        ("\\u001b", "U+001B"),
        ("\\u0008", "U+0008"),
        ("\\u007f", "U+007F"),
        ("\\u0085", "U+0085"),
        ("\\u001f", "U+001F"),
    ],
)
def test_a_character_no_text_may_hold_is_400_naming_the_field(given, name, escape, words):
    """Sent as the JSON escape, which JSON itself allows: the parser gives Python the
    character (a lone surrogate included), and the API must refuse it."""
    field, send = TEXT_FIELDS[name][2], given(name)
    head = store.head()
    _refused(send(_body(name, f'"Wire {escape} 42"')), field, words)
    _refused(send(_body(name, f'"Wire 42{escape}"')), field, words)
    assert store.head() == head and not Receipt.objects.exists()


@pytest.mark.parametrize("name", [n for n in FIELDS if not TEXT_FIELDS[n][4]])
@pytest.mark.parametrize("escape", ["\\n", "\\r", "\\t"])
def test_one_line_text_with_a_line_break_or_tab_is_400(given, name, escape):
    field, send = TEXT_FIELDS[name][2], given(name)
    head = store.head()
    _refused(send(_body(name, f'"First{escape}second"')), field, "one line")
    assert store.head() == head


@pytest.mark.parametrize("name", [n for n in FIELDS if TEXT_FIELDS[n][4]])
def test_several_line_text_keeps_its_line_breaks(given, name):
    send = given(name)
    head = store.head()
    response = send(_body(name, '"Land:\\r\\n\\tparcel 1\\n\\tparcel 2"'))
    assert response.status_code == 201, response.content
    recorded = store.read_all(after=head, limit=1)[0].data[TEXT_FIELDS[name][2]]
    assert recorded == "Land:\r\n\tparcel 1\n\tparcel 2"


def test_a_slug_of_100_kib_is_400_naming_it_and_of_1_mib_is_413(issued_call, api_client_for):
    api = api_client_for("deal_team")
    head = store.head()
    for size, status in ((100 * 1024, 400), (1024 * 1024, 413)):
        body = {"name": "Mega", "slug": "a" * size, "base_currency": "USD"}
        response = api.post("/api/v1/consortia/", body, format="json")
        assert response.status_code == status, response.content[:300]
        assert response["Content-Type"].startswith(PROBLEM)
        assert len(response.content) < 2000, "the answer does not echo the slug"
        if status == 400:
            assert "slug" in response.json()["errors"]
    assert store.head() == head


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/consortia/" + "a" * 65 + "/partners/",
        "/api/v1/consortia/AIP/partners/",
        "/api/v1/assets/" + "a" * 101 + "/stakes/",
    ],
)
def test_a_path_slug_or_asset_id_no_consortium_or_asset_could_have_is_404(
    issued_call, api_client_for, path
):
    head = store.head()
    response = api_client_for("deal_team").post(
        path, {"organisation_id": "xai", "name": "xAI", "role": "member"}, format="json"
    )
    assert response.status_code == 404, response.content[:300]
    assert response["Content-Type"].startswith(PROBLEM)
    assert store.head() == head


# --- the schema -------------------------------------------------------------------------


@pytest.fixture
def schema(client) -> dict[str, Any]:
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    loaded: dict[str, Any] = json.loads(response.content)
    return loaded


def _resolved(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    for ref in [prop.get("$ref")] + [p.get("$ref") for p in prop.get("allOf", [])]:
        if ref:
            return dict(schema["components"]["schemas"][ref.rsplit("/", 1)[-1]])
    return prop


def test_every_string_a_request_body_takes_states_its_limit(schema):
    """Every string property of every request body has ``maxLength`` or is one of an
    ``enum`` or a date; free text and ids state their ``pattern`` too."""
    components = schema["components"]["schemas"]
    requests = {name: c for name, c in components.items() if name.endswith("Request")}
    assert len(requests) >= 20
    unbounded = []
    for name, component in requests.items():
        for field, prop in component["properties"].items():
            resolved = _resolved(schema, prop)
            if resolved.get("type") != "string" or "enum" in resolved:
                continue
            if resolved.get("format") == "date":
                continue
            if "maxLength" not in resolved or "pattern" not in resolved:
                unbounded.append(f"{name}.{field}")
    assert not unbounded, unbounded


@pytest.mark.parametrize(
    ("component", "field", "limit", "newline_allowed"),
    [
        ("ConsortiumInRequest", "name", 200, False),
        ("PartnerInRequest", "name", 200, False),
        ("CallInRequest", "purpose", 1000, True),
        ("CancelInRequest", "reason", 1000, True),
        ("ContributionInRequest", "bank_reference", 200, False),
        ("ReversalInRequest", "reason", 1000, True),
        ("AssetInRequest", "name", 200, False),
        ("AssetInRequest", "location", 200, False),
        ("ConsortiumInRequest", "slug", 64, False),
        ("PartnerInRequest", "organisation_id", 64, False),
        ("CommitmentInRequest", "commitment_id", 100, False),
        ("CallInRequest", "call_id", 100, False),
        ("ContributionInRequest", "contribution_id", 100, False),
        ("FacilityInRequest", "facility_id", 100, False),
        ("FacilityInRequest", "lender", 64, False),
        ("DrawInRequest", "draw_id", 100, False),
        ("RepaymentInRequest", "repayment_id", 100, False),
        ("AssetInRequest", "asset_id", 100, False),
        ("AssetInRequest", "sponsor", 64, False),
        ("HolderInRequest", "id", 64, False),
    ],
)
def test_the_schema_states_the_limit_the_domain_keeps(
    schema, component, field, limit, newline_allowed
):
    import re

    prop = schema["components"]["schemas"][component]["properties"][field]
    assert prop["maxLength"] == limit, prop
    pattern = re.compile(prop["pattern"])
    assert not pattern.search("a\x00b") and not pattern.search("a\x1bb")
    assert bool(pattern.search("line\nbreak")) == newline_allowed


def test_every_id_in_a_path_states_its_pattern_and_limit(schema):
    """A text id its pattern and length; a number (a stored report's) its range."""
    bounds = {"string": {"pattern", "maxLength"}, "integer": {"minimum", "maximum"}}
    unbounded = [
        f"{path} {parameter['name']}"
        for path, item in schema["paths"].items()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
        and not bounds[parameter["schema"]["type"]] <= set(parameter["schema"])
    ]
    assert not unbounded, unbounded


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b'"note": "a\\u001bb"', "note"),
        (b'"a\\u0007b": 1', "body"),
        (b'"tags": ["ok", "a\\u0000b"]', "tags.1"),
    ],
)
def test_what_no_text_may_hold_is_400_even_where_the_command_ignores_it(given, raw, where):
    """Keys and fields the command does not take are never recorded, and still refused:
    a body that carries such text is malformed."""
    send = given("partner name")
    head = store.head()
    body = b'{"organisation_id": "xai", "name": "xAI", "role": "member", ' + raw + b"}"
    _refused(send(body), where, "U+00")
    assert store.head() == head and not Receipt.objects.exists()
