"""`distill replay` on the real sample: with the baseline, against a model server started
here on loopback, with no model at all, and held-out tasks with --from-runs; then the
next run-all scores the replays."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import duckdb
import pytest
from test_replay_llm import ModelServer, free_port

from distill import replay_log, schemas
from distill.cli import main
from distill.layout import Layout
from distill.pipeline import run_all
from distill.retrieval import retrieve

from conftest import RECORDED_AT

CODE_TASK = ("Write a function to sort a given matrix in ascending order according to the sum "
             "of its rows.")
FLIGHT_TASK = "Hi! I need to cancel one of my flights and get a refund."


def copy_root(real_root, destination):
    """A copy of the built real sample that a test may append replays to."""
    shutil.copytree(real_root, destination, symlinks=True,  # the published links are relative
                    ignore=shutil.ignore_patterns("dbt-logs"))
    return destination


@pytest.fixture(scope="module")
def replay_root(real_root, tmp_path_factory):
    return copy_root(real_root, tmp_path_factory.mktemp("replay") / "root")


@pytest.fixture
def model_env(monkeypatch):
    """Point the replay at a server (quick timeouts); returns a setter."""
    def point(url: str, provider: str = "ollama") -> None:
        monkeypatch.setenv("DISTILL_MODEL_PROVIDER", provider)
        monkeypatch.setenv("DISTILL_MODEL_BASE_URL", url)
        monkeypatch.setenv("DISTILL_MODEL_TIMEOUT", "1")
        monkeypatch.setenv("DISTILL_MODEL_RETRIES", "1")
        monkeypatch.setenv("DISTILL_MODEL_BACKOFF", "0.01")
    for name in list(os.environ):
        if name.startswith("DISTILL_MODEL"):
            monkeypatch.delenv(name)
    return point


def replay(root, *args: str) -> tuple[int, list[dict]]:
    """Run the command; return its exit code and the records it appended."""
    before = len(replay_log.read_records(Layout(root)))
    code = main(["replay", "--root", str(root), *args])
    return code, replay_log.read_records(Layout(root))[before:]


def top_hits(root, task: str, k: int = 5):
    with duckdb.connect(str(root / "warehouse" / "distill.duckdb"), read_only=True) as con:
        return retrieve(con, task, k)


def grounded_steps(root, task: str) -> str:
    """An answer a good model might give: numbered steps built from the top playbook."""
    words = [w for w in top_hits(root, task)[0].body.split() if len(w) > 3][:24]
    return "\n".join(f"{n}. {' '.join(words[i:i + 8])}" for n, i in enumerate((0, 8, 16), 1))


def test_baseline_replays_a_task_on_the_real_sample(replay_root, model_env, capsys):
    code, records = replay(replay_root, "--task", CODE_TASK, "--baseline", "--k", "4")
    out = capsys.readouterr().out

    assert code == 0 and len(records) == 1
    record = records[0]
    hits = top_hits(replay_root, CODE_TASK, 4)
    assert [r["playbook_id"] for r in record["retrieved"]] == [h.playbook_id for h in hits]
    assert [r["rank"] for r in record["retrieved"]] == [1, 2, 3, 4]
    assert record["model"] == {"provider": "baseline", "name": "baseline-top-playbook",
                               "endpoint": None, "is_baseline": True}
    assert record["answer"].startswith(f"Following playbook {hits[0].playbook_id} ")
    assert record["validation_result"] == {"passed": True, "reasons": [], "details": []}
    assert record["schema_version"] == 1
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", record["prompt_hash"])
    assert set(record["timings"]) == {"retrieval_ms", "model_ms", "validation_ms", "total_ms"}
    assert "baseline-top-playbook (the built-in baseline responder, not a model)" in out
    assert "validation: passed" in out
    assert schemas.validate("replay_run", record) == []


def test_a_model_on_loopback_answers_and_is_validated(replay_root, model_env, monkeypatch):
    answer = grounded_steps(replay_root, FLIGHT_TASK)
    with ModelServer(answer=answer) as server:
        model_env(server.url)
        monkeypatch.setenv("DISTILL_MODEL", "tiny-test-model")
        code, records = replay(replay_root, "--task", FLIGHT_TASK, "--local-only")

    assert code == 0
    record = records[0]
    assert record["answer"] == answer
    assert record["model"]["provider"] == "ollama"
    assert record["model"]["name"] == "tiny-test-model"
    assert record["model"]["endpoint"] == server.url + "/api/chat"
    assert record["validation_result"]["passed"] is True
    prompt = server.requests[0]["messages"][1]["content"]
    assert top_hits(replay_root, FLIGHT_TASK)[0].body[:200] in prompt
    assert server.requests[0]["model"] == "tiny-test-model"


def test_an_openai_server_that_hedges_fails_validation(replay_root, model_env):
    answer = "I'm not sure, but " + grounded_steps(replay_root, FLIGHT_TASK) + "\nHope this helps!"
    with ModelServer(answer=answer) as server:
        model_env(server.url, "openai")
        code, records = replay(replay_root, "--task", FLIGHT_TASK)

    assert code == 1
    result = records[0]["validation_result"]
    assert result["passed"] is False
    assert result["reasons"] == ["hedge_or_filler"]
    assert result["details"] == ["says 'hope this helps', 'i'm not sure'"]
    assert server.paths == ["/v1/chat/completions"]


def test_a_failed_model_call_is_recorded_as_such(replay_root, model_env):
    with ModelServer("not_json") as server:
        model_env(server.url)
        code, records = replay(replay_root, "--task", FLIGHT_TASK)
    assert code == 1
    assert records[0]["validation_result"]["reasons"] == ["model_call_failed"]
    assert "malformed reply" in records[0]["model_error"]
    assert records[0]["answer"] is None


def test_no_model_running_is_an_error_naming_what_to_start(replay_root, model_env, capsys):
    model_env(f"http://127.0.0.1:{free_port()}")
    code, records = replay(replay_root, "--task", FLIGHT_TASK)
    err = capsys.readouterr().err
    assert code == 2
    assert records == []  # nothing recorded, and no baseline answered instead
    assert "`ollama serve`" in err and "`ollama pull llama3.2`" in err
    assert "--baseline" in err


def test_empty_retrieval_is_its_own_reason_and_asks_no_model(replay_root, model_env):
    with ModelServer() as server:
        model_env(server.url)
        code, records = replay(replay_root, "--task", "zqxjv wkpfy")
    assert code == 1
    assert server.requests == []
    assert records[0]["retrieved"] == []
    assert records[0]["validation_result"]["reasons"] == ["empty_retrieval"]


def test_local_only_refuses_a_remote_endpoint_with_no_network(replay_root):
    """Run in a network namespace of its own, so that nothing could leave even by mistake."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTILL_MODEL")}
    env["DISTILL_MODEL_BASE_URL"] = "http://model.invalid:11434"
    before = len(replay_log.read_records(Layout(replay_root)))
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "distill.cli", "replay", "--root",
         str(replay_root), "--task", FLIGHT_TASK, "--local-only"],
        check=False, env=env, capture_output=True, text=True, timeout=60,
    )
    if "Operation not permitted" in done.stderr:
        pytest.skip("unshare -n is not permitted here")
    assert done.returncode == 2
    assert "--local-only: http://model.invalid:11434/api/chat is not on this machine" in done.stderr
    assert len(replay_log.read_records(Layout(replay_root))) == before


def test_from_runs_20_with_the_baseline_prints_a_pass_rate(replay_root, model_env, capsys):
    code, records = replay(replay_root, "--from-runs", "20", "--baseline")
    out = capsys.readouterr().out

    assert code == 0 and len(records) == 20
    passed = sum(r["validation_result"]["passed"] for r in records)
    assert f"validation pass rate {passed}/20 ({100 * passed / 20:.1f}%)" in out
    assert "mean similarity to the held-out runs" in out
    with duckdb.connect(str(replay_root / "warehouse" / "distill.duckdb"), read_only=True) as con:
        task_of = dict(con.execute("select playbook_id, task_id from exports.playbooks").fetchall())
    for record in records:
        held_out = record["held_out"]
        assert record["task_id"] == held_out["task_id"]
        assert held_out["similarity_method"] in ("tool_call_sequence", "key_terms")
        assert all(task_of[r["playbook_id"]] != held_out["task_id"] for r in record["retrieved"])
    assert len({r["task_id"] for r in records}) == 20


def test_the_next_run_all_scores_the_replays(real_root, tmp_path, model_env):
    root = copy_root(real_root, tmp_path / "root")
    with ModelServer(answer=grounded_steps(root, FLIGHT_TASK)) as good:
        model_env(good.url)
        _, passed = replay(root, "--task", FLIGHT_TASK)
    with ModelServer(answer="It depends on the airline.") as bad:
        model_env(bad.url)
        _, failed = replay(root, "--task", FLIGHT_TASK)
    _, baseline = replay(root, "--task", CODE_TASK, "--baseline")

    run_all(Layout(root), RECORDED_AT)
    con = duckdb.connect(str(root / "warehouse" / "distill.duckdb"), read_only=True)
    scored = dict(con.execute(
        "select run_id, quality_score from scoring.scored_runs where run_id like 'replay:%'"
    ).fetchall())
    con.close()
    assert scored == {
        "replay:" + passed[0]["replay_id"]: "accepted",
        "replay:" + failed[0]["replay_id"]: "rejected",
        "replay:" + baseline[0]["replay_id"]: "needs_human_review",
    }
