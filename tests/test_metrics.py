"""A run's metrics log: appended line by line, cut back to the checkpoint on resume."""

from __future__ import annotations

import json

from llama_data.training import metrics


def lines(run) -> list[dict]:
    return [json.loads(line) for line in (run / metrics.JSONL).read_text().splitlines()]


def test_records_are_appended_as_valid_json_lines(tmp_path):
    log = metrics.MetricsLog(tmp_path)
    written = [{"step": s, "tokens": 64 * s, "loss": 10 / (s + 1)} for s in range(1, 51)]
    for record in written:
        log.write(record)
    assert lines(tmp_path) == written == metrics.read(tmp_path)
    assert log.last == written[-1]


def test_a_resumed_log_drops_what_came_after_its_checkpoint_and_a_new_one_starts_empty(tmp_path):
    log = metrics.MetricsLog(tmp_path)
    for s in range(9):  # the interrupted run got to step 8; its checkpoint is at step 4
        log.write({"step": s, "loss": float(s)})
    resumed = metrics.MetricsLog(tmp_path, resumed_at=4)
    assert [r["step"] for r in lines(tmp_path)] == [0, 1, 2, 3, 4] and resumed.last["step"] == 4
    resumed.write({"step": 5, "loss": -5.0})
    assert [r["loss"] for r in lines(tmp_path)] == [0.0, 1.0, 2.0, 3.0, 4.0, -5.0]
    metrics.MetricsLog(tmp_path)
    assert (tmp_path / metrics.JSONL).read_text() == ""


def test_only_the_enabled_rank_writes(tmp_path):
    log = metrics.MetricsLog(tmp_path, enabled=False)
    log.write({"step": 1})
    assert not (tmp_path / metrics.JSONL).exists() and log.last == {"step": 1}
