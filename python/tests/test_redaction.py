"""Secrets and personal data never reach an export, a skip detail or the receipt."""

from __future__ import annotations

import json

from distill.publish import OUTPUTS

from conftest import FIXTURE_KB, read_jsonl

PLANTED = json.loads((FIXTURE_KB / "planted_secrets.json").read_text())


def test_no_planted_secret_is_in_any_written_file(fixture_root):
    summary_paths = list((fixture_root / "reports").rglob("summary.json"))
    written = [fixture_root / o.relpath for o in OUTPUTS] + summary_paths

    for path in written:
        text = path.read_text(encoding="utf-8")
        for kind, secret in PLANTED.items():
            assert secret not in text and json.dumps(secret)[1:-1] not in text, (kind, path)


def test_each_kind_is_replaced_by_its_typed_placeholder_in_sft(fixture_root):
    sft = {r["source_run_id"]: r for r in read_jsonl(
        fixture_root / "exports/sft/instruction_response.jsonl")}
    response = sft["fx-secret-1"]["response"]

    for kind in PLANTED:
        assert f"[REDACTED:{kind}]" in response, kind
    assert "postgres://admin:[REDACTED:password_in_url]@db.internal.example" in response
    assert "/home/[REDACTED:home_user]/projects" in response
    assert "[REDACTED:email]" in sft["fx-secret-1"]["instruction"]
    assert "[REDACTED:email]" in json.dumps(sft["fx-secret-1"]["messages"])


def test_tool_call_conversations_are_redacted_too(fixture_root):
    evidence = {r["run_id"]: r for r in read_jsonl(
        fixture_root / "data/evidence/evidence.jsonl")}
    trial = evidence["taubench/gpt-4o-airline:task-1:trial-0"]

    assert "sam@example.com" not in json.dumps(trial)
    assert "[REDACTED:email]" in trial["conversation"][1]["content"]


def test_the_receipt_counts_redactions_per_kind(fixture_root):
    summary = json.loads(next((fixture_root / "reports").rglob("summary.json")).read_text())
    counted = summary["phases"]["materialize"]["redactions"]

    assert set(counted) == set(PLANTED)
    assert counted["openai_key"] == 2  # the output text and the conversation of one run
    assert counted["email"] >= 8


def test_a_pair_whose_sides_become_equal_after_redaction_is_dropped(fixture_root):
    pairs = read_jsonl(fixture_root / "exports/preference/chosen_rejected.jsonl")
    categories = {r["run_id"]: r["quality_score"] for r in read_jsonl(
        fixture_root / "data/scored-runs/scored_runs.jsonl")}

    assert categories["fx-redact-same-1"] == "accepted"
    assert categories["fx-redact-same-2"] == "rejected"
    assert not [p for p in pairs if p["task_id"] == "t-contact"]
    assert [p for p in pairs if p["task_id"] == "t-sum"]


# An independent check with Yelp's detect-secrets, a scanner kept for this job: its
# regex-based plugins (not its entropy ones, which flag any random-looking string).
SCANNER_PLUGINS = ["AWSKeyDetector", "GitHubTokenDetector", "SlackDetector", "JwtTokenDetector",
                   "PrivateKeyDetector", "StripeDetector", "BasicAuthDetector"]


def scanner_findings(paths) -> list[tuple[str, int, str]]:
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import transient_settings

    findings = []
    with transient_settings({"plugins_used": [{"name": n} for n in SCANNER_PLUGINS]}):
        for path in paths:
            with open(path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    # JSON escapes hide a PEM block's line breaks from the scanner
                    text = line.replace("\\n", "\n")
                    findings += [(path.name, number, f.type) for f in scan_line(text)]
    return findings


def test_the_independent_scanner_sees_the_planted_secrets_in_the_logs():
    found = {kind for _, _, kind in scanner_findings([FIXTURE_KB / "canonical" / "runs.jsonl"])}

    assert found == {"AWS Access Key", "GitHub Token", "Slack Token", "JSON Web Token",
                     "Private Key", "Basic Auth Credentials"}


def test_the_independent_scanner_finds_nothing_in_any_export(fixture_root, real_root):
    written = [root / o.relpath for root in (fixture_root, real_root) for o in OUTPUTS]

    assert scanner_findings(written) == []


def test_ordinary_ids_that_contain_key_prefixes_are_not_taken_for_secrets(tmp_path):
    from distill.layout import Layout
    from distill.pipeline import run_all

    from conftest import RECORDED_AT

    kb = tmp_path / "data" / "_kb"
    kb.mkdir(parents=True)
    run_ids = ["task-0001-abcdefghijklmnopqrstuvwxyz", "disk-cleanup-2026-01-01-abcdefghijkl"]
    kb.joinpath("runs.jsonl").write_text("".join(
        json.dumps({"run_id": r, "task_id": r, "task": "x", "output": "y"}) + "\n"
        for r in run_ids))

    run_all(Layout(tmp_path), RECORDED_AT)

    evidence = read_jsonl(tmp_path / "data/evidence/evidence.jsonl")
    assert sorted(r["run_id"] for r in evidence) == sorted(run_ids)
