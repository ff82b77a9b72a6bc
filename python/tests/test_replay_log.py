"""The replay log rotates itself into compressed archives and loses no record, even with
two replays appending at once."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from distill import replay_log
from distill.layout import Layout

WRITER = """
import sys
from pathlib import Path
from distill import replay_log
from distill.layout import Layout

root, tag, count, bound = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for number in range(count):
    record = {"schema_version": 1, "replay_id": f"rp_{tag}_{number:04d}", "writer": tag,
              "number": number, "answer": "x" * (50 + number % 70)}
    replay_log.append(Layout(Path(root)), record, max_bytes=bound)
"""


def record(number: int, size: int = 100) -> dict:
    return {"schema_version": 1, "replay_id": f"rp_{number:04d}", "answer": "y" * size}


def test_appends_one_line_per_record_below_the_bound(tmp_path):
    layout = Layout(tmp_path)
    for number in range(3):
        assert replay_log.append(layout, record(number)) is None
    lines = (tmp_path / "data" / "_kb" / "replay_runs.jsonl").read_bytes().splitlines()
    assert [json.loads(line)["replay_id"] for line in lines] == ["rp_0000", "rp_0001", "rp_0002"]
    assert replay_log.archives(layout) == []


def test_rotates_past_the_bound_into_numbered_gzip_archives(tmp_path):
    layout = Layout(tmp_path)
    line_bytes = len(json.dumps(record(0), sort_keys=True)) + 1
    bound = 3 * line_bytes  # three records fit, the fourth rotates
    rotated = [replay_log.append(layout, record(n), max_bytes=bound) for n in range(10)]

    names = [p.name for p in rotated if p is not None]
    assert names == ["replay_runs.000001.jsonl.gz", "replay_runs.000002.jsonl.gz",
                     "replay_runs.000003.jsonl.gz"]
    first = gzip.decompress((layout.kb / names[0]).read_bytes()).splitlines()
    assert [json.loads(line)["replay_id"] for line in first] == ["rp_0000", "rp_0001", "rp_0002"]
    live = replay_log.log_path(layout).read_bytes().splitlines()
    assert [json.loads(line)["replay_id"] for line in live] == ["rp_0009"]
    assert [r["replay_id"] for r in replay_log.read_records(layout)] == [
        f"rp_{n:04d}" for n in range(10)
    ]


def test_the_bound_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DISTILL_REPLAY_LOG_MAX_BYTES", "150")
    layout = Layout(tmp_path)
    replay_log.append(layout, record(0))
    assert replay_log.append(layout, record(1)) is not None
    assert replay_log.max_bytes_from_env() == 150
    monkeypatch.delenv("DISTILL_REPLAY_LOG_MAX_BYTES")
    assert replay_log.max_bytes_from_env() == 100 * 1024 * 1024


def test_two_replays_at_once_lose_no_record(tmp_path):
    layout = Layout(tmp_path)
    count, bound = 150, 2_000
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), tag, str(count),
                          str(bound)])
        for tag in ("a", "b")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]

    records = replay_log.read_records(layout)
    ids = [r["replay_id"] for r in records]
    assert len(ids) == len(set(ids)) == 2 * count
    for tag in ("a", "b"):  # each writer's records in the order it wrote them
        assert [r["number"] for r in records if r["writer"] == tag] == list(range(count))

    archives = replay_log.archives(layout)
    assert len(archives) >= 10
    in_archives = sum(len(gzip.decompress(p.read_bytes()).splitlines()) for p in archives)
    live = replay_log.log_path(layout).read_bytes()
    assert in_archives + len(live.splitlines()) == 2 * count
    assert len(live) <= bound
    assert not list(layout.kb.glob("*.partial"))


def test_a_crash_between_archiving_and_emptying_duplicates_no_record(tmp_path):
    layout = Layout(tmp_path)
    for number in range(3):
        replay_log.append(layout, record(number))
    live = replay_log.log_path(layout)
    # the archive was written, the crash came before the live log was emptied
    (layout.kb / "replay_runs.000001.jsonl.gz").write_bytes(gzip.compress(live.read_bytes()))
    replay_log.append(layout, record(3))
    assert [r["replay_id"] for r in replay_log.read_records(layout)] == [
        "rp_0000", "rp_0001", "rp_0002", "rp_0003"
    ]


def test_archives_are_not_source_streams(tmp_path):
    """The pipeline reads *.jsonl: an archive is never read twice as a source."""
    layout = Layout(tmp_path)
    for number in range(4):
        replay_log.append(layout, record(number), max_bytes=250)  # one record per file
    sources = sorted(p.name for p in Path(layout.kb).rglob("*.jsonl"))
    assert sources == ["replay_runs.jsonl"]
    assert len(replay_log.archives(layout)) == 3
