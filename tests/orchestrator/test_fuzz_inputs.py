"""Property-based fuzzing of what users hand the command line: campaign files, damaged event logs,
measured tables. Every command either does its job or exits 2 with a one-line message; nothing
escapes as a traceback, and a refused command changes no store."""

import copy
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.orchestrator.dashboard_server import loop_of, new_store, quick_campaign

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples in every run: a failure is reproducible, CI is steady
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=4,
)


def leaf_paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaf_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from leaf_paths(value, (*prefix, i))


def replaced(document, path, value):
    changed = copy.deepcopy(document)
    if not path:
        return value
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


def one_message_or_success(result, codes=(0, 2)) -> None:
    assert result.exit_code in codes, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.output.startswith("error: "), result.output


@FUZZ
@given(data=st.data())
def test_a_mangled_campaign_file_is_valid_or_refused_in_one_message(data, quickstart, junkan, tmp_path):
    paths = list(leaf_paths(quickstart))
    path = data.draw(st.sampled_from(paths), label="field")
    text = yaml.safe_dump(replaced(quickstart, path, data.draw(values, label="value")), sort_keys=False)
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(text)
    result = junkan("validate", campaign)
    one_message_or_success(result)
    if result.exit_code == 2:  # what validate refuses, run refuses before writing anything
        store = tmp_path / "store"
        one_message_or_success(junkan("run", campaign, "--store", store), codes=(2,))
        assert not store.exists()


@FUZZ
@given(raw=st.binary(max_size=200))
def test_random_bytes_as_a_campaign_file_are_refused_in_one_message(raw, junkan, tmp_path):
    campaign = tmp_path / "campaign.yaml"
    campaign.write_bytes(raw)
    one_message_or_success(junkan("validate", campaign), codes=(2,))


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    store = new_store(tmp_path_factory.mktemp("fuzz") / "store", quick_campaign(budget=3))
    assert loop_of(store).run().status == "finished"
    return store.path


def damage(lines: list[bytes], data) -> list[bytes]:
    kind = data.draw(st.sampled_from(["truncate", "garbage", "swap", "duplicate", "drop"]), label="damage")
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    lines = list(lines)
    if kind == "truncate":
        cut = data.draw(st.integers(0, len(lines[i])), label="at")
        return [*lines[:i], lines[i][:cut]]
    if kind == "garbage":
        junk = data.draw(st.binary(min_size=1, max_size=40).filter(lambda b: b"\n" not in b), label="junk")
        return [*lines[:i], junk + b"\n", *lines[i:]]
    if kind == "swap":
        j = data.draw(st.integers(0, len(lines) - 1), label="with")
        lines[i], lines[j] = lines[j], lines[i]
        return lines
    if kind == "duplicate":
        return [*lines[: i + 1], lines[i], *lines[i + 1 :]]
    return [*lines[:i], *lines[i + 1 :]]


@FUZZ
@given(data=st.data())
def test_a_damaged_event_log_is_read_or_refused_and_never_changed(data, finished, junkan, tmp_path):
    store = Path(shutil.copytree(finished, Path(tempfile.mkdtemp(dir=tmp_path)) / "store"))
    log = store / "events.jsonl"
    log.write_bytes(b"".join(damage(log.read_bytes().splitlines(keepends=True), data)))
    before = log.read_bytes()
    status = junkan("status", store)
    one_message_or_success(status)
    # replay answers 1 when a re-decided proposal differs (a reordered log can do that)
    one_message_or_success(junkan("replay", store, "--verify"), codes=(0, 1, 2))
    one_message_or_success(junkan("control", store, "stop", "--queue"))
    # the dashboard's start-up reads the log too: with its port taken it must still end in one message
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        one_message_or_success(junkan("dashboard", store, "--port", port), codes=(2,))
    if status.exit_code == 2:
        assert log.read_bytes() == before
        assert not (store / "control").exists() or not list((store / "control").glob("*.json"))
    # last, as it may write: a readable log resumes (or is refused as finished); 3 is a pause on record
    resumed = junkan("resume", store)
    one_message_or_success(resumed, codes=(0, 2, 3))
    if resumed.exit_code == 2:
        assert log.read_bytes() == before


numbers = st.floats(0, 1).map(repr)
cells = st.one_of(  # mostly numbers, so that short and long rows are reached past the first bad cell
    numbers,
    numbers,
    numbers,
    st.sampled_from(["", "nan", "inf", "-1", "x", " 0.5", "1e400"]),
    st.text(alphabet='0123456789.,e-" ', max_size=6),
)


@FUZZ
@given(
    header=st.just(["a", "b", "c", "y"])
    | st.lists(st.sampled_from(["a", "b", "c", "y", "z", ""]), max_size=5),
    rows=st.lists(st.lists(numbers, min_size=4, max_size=4) | st.lists(cells, max_size=6), max_size=6),
)
def test_a_random_table_is_replayed_or_refused_in_one_message(header, rows, junkan, tmp_path):
    table = tmp_path / "pool.csv"
    table.write_text("\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n")
    args = ["replay", "--pool", table, "--inputs", "a,b,c", "--objectives", "y:max"]
    one_message_or_success(junkan(*args, "--policy", "random", "--seeds", "1", "--budget", "2"))
