"""The audit's HTML report opens offline in a real browser and its charts render.

Chromium runs headless with networking off and a fresh profile; `--dump-dom` returns the
page after its inline script has counted, per chart, the bars the browser laid out with a
non-empty box.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.conftest import RECORDED_AT

from distill.cli import main

CHROMIUM = Path("/usr/bin/chromium")
HTML = Path("reports") / "distillation" / "phase8-full-audit-report.html"


def dump_dom(page: Path, profile: Path) -> str:
    assert CHROMIUM.is_file(), "chromium is missing: run scripts/install-test-tools.sh"
    done = subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--virtual-time-budget=5000",
            "--dump-dom", page.as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def audited(real_root, tmp_path_factory) -> Path:
    """A copy of the real root audited twice, the second time with a doubled SFT baseline,
    so the drift chart has bars."""
    root = tmp_path_factory.mktemp("html") / "root"
    shutil.copytree(real_root, root)
    assert main(["audit-full", "--root", str(root), "--recorded-at", RECORDED_AT]) == 0
    baselines = root / "data" / "_kb" / "audit_baselines.jsonl"
    row = baselines.read_text().splitlines()[0]
    sft = re.search(r'"exports.sft_samples": (\d+)', row)
    doubled = row.replace(sft.group(0), f'"exports.sft_samples": {int(sft.group(1)) * 2}')
    baselines.write_text(doubled.replace('"accepted": false', '"accepted": true, '
                                         '"notes": "twice the rows"') + "\n")
    assert main(["audit-full", "--root", str(root), "--recorded-at", RECORDED_AT]) == 0
    return root


def test_the_report_is_self_contained(audited):
    page = (audited / HTML).read_text()
    assert not re.search(r"<link\b|<img\b|<iframe\b|@import|url\(", page)
    assert not re.search(r"""\b(src|href)\s*=""", page)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)
    assert "default-src 'none'" in page


def test_every_chart_renders_its_bars_in_a_headless_browser(audited, tmp_path):
    dom = dump_dom(audited / HTML, tmp_path / "profile")
    assert 'data-rendered="yes"' in dom
    charts = dict(re.findall(
        r'<figure class="chart-figure" id="([\w-]+)" data-bars="\d+" '
        r'data-rendered-bars="(\d+)"', dom))
    page = (audited / HTML).read_text()
    planned = dict(re.findall(r'id="([\w-]+)" data-bars="(\d+)"', page))
    assert set(charts) == {"category-shares", "phase-counts", "skip-reasons", "drift"}
    assert charts == planned
    assert int(charts["category-shares"]) == 4
    assert int(charts["phase-counts"]) == 8
    assert int(charts["drift"]) >= 1
    assert 'data-metric="exports.sft_samples" data-status="warn"' in dom


def test_the_check_table_lists_every_check_with_its_result(audited, tmp_path):
    dom = dump_dom(audited / HTML, tmp_path / "profile")
    results = dict(re.findall(r'<tr data-check="(\w+)" data-result="(\w+)">', dom))
    assert len(results) >= 30
    assert results["p4_sft_firewall"] == "pass"
    assert results["p8_drift"] == "warn"
