"""The acceptance gate bites: each deliberate mistake makes it fail, naming the invariant.

Each test copies the dbt project, makes one mistake in the copy (or in the writer), runs
`distill acceptance` against it, and checks the failed invariant by its name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from distill import publish
from distill.layout import PROJECT_DIR

PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests",
                 "fixtures")


def project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for part in PROJECT_PARTS:
        source = PROJECT_DIR / part
        if source.is_dir():
            shutil.copytree(source, copy / part)
        else:
            shutil.copy2(source, copy / part)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"the mistake's anchor is gone from {path.name}: {old!r}"
    path.write_text(text.replace(old, new))


def acceptance(project: Path, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "distill.cli", "acceptance", "--root", str(root)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "DISTILL_PROJECT_DIR": str(project),
             "PYTHONPATH": str(PROJECT_DIR / "python")},
    )


def failed_invariants(stdout: str) -> list[str]:
    return [line.split(". ", 1)[1].split(":")[0]
            for line in stdout.splitlines() if line.startswith("FAIL")]


def test_a_loosened_firewall_fails_the_gate(tmp_path):
    project = project_copy(tmp_path)
    edit(project / "macros" / "firewall.sql",
         "{{ return(['rejected', 'needs_human_review']) }}", "{{ return(['rejected']) }}")
    edit(project / "dbt_project.yml",
         'sft_categories: ["accepted", "partially_accepted"]',
         'sft_categories: ["accepted", "partially_accepted", "needs_human_review"]')

    done = acceptance(project, tmp_path / "out")

    assert done.returncode == 1
    assert "SFT firewall holds" in failed_invariants(done.stdout)
    assert "the temporary root is kept for inspection" in done.stdout


def test_a_removed_self_pair_guard_fails_the_gate(tmp_path):
    project = project_copy(tmp_path)
    edit(project / "models" / "5_exports" / "preference_pairs.sql",
         "    where candidates.chosen_run_id <> candidates.rejected_run_id\n"
         "        and trim(chosen.output_text) <> trim(rejected.output_text)\n",
         "    where true\n")

    done = acceptance(project, tmp_path / "out")

    assert done.returncode == 1
    assert "no preference self-pair" in failed_invariants(done.stdout)


def test_a_dropped_secret_pattern_fails_the_gate(tmp_path):
    project = project_copy(tmp_path)
    patterns = project / "seeds" / "secret_patterns.csv"
    kept = [line for line in patterns.read_text().splitlines(keepends=True)
            if ",email," not in line]
    patterns.write_text("".join(kept))

    done = acceptance(project, tmp_path / "out")

    assert done.returncode == 1
    assert "no planted secret in any export" in failed_invariants(done.stdout)


def test_a_swallowed_skip_reason_fails_the_gate(tmp_path):
    project = project_copy(tmp_path)
    edit(project / "models" / "3_evidence" / "distillation_skips.sql",
         "from reasoned\n", "from reasoned\nwhere skip_reason <> 'blank_line'\n")

    done = acceptance(project, tmp_path / "out")

    assert done.returncode == 1
    assert "every fixture line accounted for per source" in failed_invariants(done.stdout)


def test_an_unsorted_export_fails_the_gate(tmp_path, monkeypatch, capsys):
    from distill import cli

    def write_unsorted(con, output, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy (select * from {output.relation} order by {output.order_by} desc) "
                    f"to '{path}' (format json)")

    monkeypatch.setattr(publish, "write_jsonl", write_unsorted)
    code = cli.main(["acceptance", "--root", str(tmp_path / "out")])
    printed = capsys.readouterr().out

    assert code == 1
    assert "exports sorted by their key" in failed_invariants(printed)
