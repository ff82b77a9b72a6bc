"""The dbt tests are the gate: a violation planted in the warehouse fails `dbt test`."""

from __future__ import annotations

import pytest

from distill.layout import Layout
from distill.warehouse import connect, run_dbt

from conftest import FIXTURE_KB


@pytest.fixture(scope="module")
def planted_root(make_root):
    """A fixture root with one violation of each export rule inserted after the build."""
    root = make_root("planted", kb=FIXTURE_KB)
    with connect(Layout(root), read_only=False) as con:
        con.execute("""
            insert into exports.sft_samples by name
            select 1 as schema_version, 'sft_planted_leak' as id, instruction,
                output_text as response, conversation as messages,
                'accepted' as quality_score, run_id as source_run_id, evidence_id, task_id,
                task_kind
            from evidence.evidence where run_id = 'fx-nosignal-1'
        """)
        con.execute("""
            insert into exports.preference_pairs by name
            select 1 as schema_version, 'pref_planted_self' as id, 'p' as prompt,
                'same text' as chosen, 'other text' as rejected,
                'fx-accept-1' as chosen_run_id, 'fx-accept-1' as rejected_run_id,
                't-sum' as task_id, ['planted'] as pair_reasons
        """)
        con.execute("""
            insert into exports.playbooks by name
            select 1 as schema_version, 'pb_planted_rejected' as playbook_id, 't' as title,
                'code' as task_kind, 't-sum' as task_id, 'direct' as approach,
                ['fx-reject-1'] as source_run_ids, 0 as success_count, 1 as attempt_count,
                0.0 as success_rate, 'body' as body
        """)
        con.execute("""
            insert into exports.playbooks by name
            select 1 as schema_version, 'pb_planted_secret' as playbook_id, 't' as title,
                'code' as task_kind, 't-sum' as task_id, 'direct' as approach,
                ['fx-accept-1'] as source_run_ids, 1 as success_count, 1 as attempt_count,
                1.0 as success_rate, 'write to ops@example.com' as body
        """)
    return root


def test_planted_violations_fail_exactly_their_tests(planted_root):
    result = run_dbt(Layout(planted_root), "test", ["path:models/5_exports"],
                     show_progress=False)

    assert sorted(result.failures) == [
        "test cites_accepted_runs_playbooks_source_run_ids",
        "test no_secrets_playbooks_",
        "test no_self_pair_preference_pairs_",
        "test sft_firewall_sft_samples_quality_score",
    ]


def test_the_same_tests_pass_on_the_unplanted_build(fixture_root):
    result = run_dbt(Layout(fixture_root), "test", ["path:models/5_exports"],
                     show_progress=False)

    assert result.failures == []
    assert sum(1 for name in result.statuses if name.startswith("test ")) >= 10
