"""The mixture sampler on real token shards of three sources."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from llama_data import manifest, mixture
from llama_data.errors import ReleaseError
from llama_data.training.data import MixtureSequences, interleave, is_validation

SEQ_LEN = 128


@pytest.fixture(scope="module")
def sequences(encoded_release):
    plan = mixture.load_plan(str(encoded_release))
    return MixtureSequences(str(encoded_release), SEQ_LEN, plan.total_tokens // SEQ_LEN,
                            val_fraction=0.02)


@pytest.mark.parametrize("weights", [
    [0.67, 0.15, 0.045, 0.045, 0.045, 0.025, 0.02],  # Table 1
    [0.5, 0.5], [0.9, 0.05, 0.05], [0.01, 0.99],
    *np.random.default_rng(7).dirichlet(np.ones(7) * 0.4, size=4).tolist(),
    np.random.default_rng(8).dirichlet(np.ones(20), size=1)[0].tolist(),
])
def test_every_prefix_stays_within_one_sequence_of_every_share(weights):
    order = interleave(np.array(weights), 20_000)
    steps = np.arange(1, len(order) + 1)
    for s, w in enumerate(np.array(weights) / np.sum(weights)):
        tokens_taken = np.cumsum(order == s) * SEQ_LEN
        assert np.abs(tokens_taken - w * steps * SEQ_LEN).max() < SEQ_LEN


def test_each_source_gives_the_planned_tokens(sequences, encoded_release):
    plan = mixture.load_plan(str(encoded_release))
    taken = Counter(sequences[k].source for k in range(len(sequences)))
    assert sum(taken.values()) == len(sequences) == plan.total_tokens // SEQ_LEN
    for source in plan.sources:
        # the interleaving keeps every source within one sequence of its share; the sequence count
        # is the plan's total rounded down, the plan's targets are rounded: a few tokens more
        assert abs(taken[source.source] * SEQ_LEN - source.target_tokens) < SEQ_LEN + 2, source


def test_sequences_are_packed_documents_with_their_boundaries(sequences):
    bos = 1
    multi = 0
    for k in range(0, len(sequences), max(1, len(sequences) // 300)):
        seq = sequences[k]
        assert len(seq.tokens) == len(seq.doc) == len(seq.position) == SEQ_LEN + 1
        starts = np.flatnonzero(np.diff(seq.doc)) + 1
        assert (seq.position[starts] == 0).all() and (seq.tokens[starts] == bos).all()
        assert (np.diff(seq.position)[np.diff(seq.doc) == 0] == 1).all()
        multi += len(starts) > 0
    assert multi > 0


# A fresh process that restores a sampler state saved mid-stream and carries on.
RESUME = """
import json, sys
import numpy as np
from llama_data.training.data import MixtureSequences
release, state_file, out, count = sys.argv[1:]
state = json.loads(open(state_file).read())
sequences = MixtureSequences(release, state["seq_len"], state["num_sequences"],
                             val_fraction=state["val_fraction"])
k = state["next_sequence"]
np.save(out, np.stack([sequences[j].tokens for j in range(k, k + int(count))]))
"""


def test_a_fresh_process_resumes_the_stream_where_a_saved_state_left_it(sequences, encoded_release,
                                                                         tmp_path):
    k = len(sequences) // 3
    consumed = [sequences[j].tokens for j in range(k)]  # the run, until it stops
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"seq_len": SEQ_LEN, "num_sequences": len(sequences),
                                 "val_fraction": 0.02, "next_sequence": len(consumed)}))
    # the resumed process sees the release as a new machine would: no index built yet
    release = tmp_path / "release"
    shutil.copytree(encoded_release, release, ignore=shutil.ignore_patterns(".index"))
    out = tmp_path / "resumed.npy"
    subprocess.run([sys.executable, "-c", RESUME, str(release), str(state), str(out), "50"],
                   check=True)
    resumed = np.load(out)
    uninterrupted = np.stack([sequences[j].tokens for j in range(k, k + 50)])
    assert resumed.shape == (50, SEQ_LEN + 1)
    assert np.array_equal(resumed, uninterrupted)
    assert not np.array_equal(resumed[0], consumed[-1])


def test_the_index_is_rebuilt_identically_from_scratch(sequences, encoded_release, tmp_path):
    copy = tmp_path / "r"
    shutil.copytree(encoded_release, copy, ignore=shutil.ignore_patterns(".index"))
    rebuilt = MixtureSequences(str(copy), SEQ_LEN, len(sequences), val_fraction=0.02)
    for k in (0, 1, len(sequences) // 2, len(sequences) - 1):
        assert np.array_equal(rebuilt[k].tokens, sequences[k].tokens)
        assert rebuilt[k].source == sequences[k].source


def test_validation_documents_never_appear_in_training(sequences):
    for source in sequences.sources:
        docs = sequences.docs[source]
        held_out = set(np.flatnonzero(is_validation(docs.id_hash, 0.02)).tolist())
        assert held_out, source
        assert not held_out & set(np.asarray(sequences.doc_order[source]).tolist())
        validation = list(sequences.validation(source, max_sequences=5))
        assert validation and all(len(v.tokens) == SEQ_LEN + 1 for v in validation)


def test_a_source_with_too_little_held_out_has_no_validation_sequences(encoded_release):
    plan = mixture.load_plan(str(encoded_release))
    none_held = MixtureSequences(str(encoded_release), SEQ_LEN, 10, val_fraction=1e-9)
    assert plan.sources and all(list(none_held.validation(s.source)) == [] for s in plan.sources)


def test_a_release_without_tokens_or_with_a_plan_naming_absent_sources_is_refused(
        corpus_release, encoded_release, tmp_path):
    with pytest.raises(mixture.MixtureError, match="no mixture plan"):
        MixtureSequences(str(corpus_release), SEQ_LEN, 10)
    copy = tmp_path / "r"
    shutil.copytree(encoded_release, copy)
    saved = manifest.load(str(copy))
    saved.sources["c4"].tokens = None
    manifest.save(str(copy), saved)
    with pytest.raises(ReleaseError, match="without token shards: c4"):
        MixtureSequences(str(copy), SEQ_LEN, 10)
