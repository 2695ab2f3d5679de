"""The mixture sampler on real token shards of three sources."""

from __future__ import annotations

import shutil

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


def test_epochs_per_source_are_realised_as_planned(sequences, encoded_release):
    plan = mixture.load_plan(str(encoded_release))
    realised = sequences.epochs()
    for source in plan.sources:
        # the plan counts all of a source's tokens, the sampler its training split (2% held out)
        assert realised[source.source] == pytest.approx(source.epochs, rel=0.05), source.source
    assert realised["books"] > 1 > realised["wikipedia"]  # repeated, and a prefix of one epoch


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


def test_resuming_at_k_gives_what_an_uninterrupted_run_gives(sequences, encoded_release):
    k = len(sequences) // 3
    uninterrupted = [s.tokens for s in sequences.iterate()][k:k + 50]
    plan = mixture.load_plan(str(encoded_release))
    resumed = MixtureSequences(str(encoded_release), SEQ_LEN, plan.total_tokens // SEQ_LEN,
                               val_fraction=0.02)
    again = [s.tokens for s in resumed.iterate(start=k)][:50]
    assert len(again) == len(uninterrupted) == 50
    assert all(np.array_equal(a, b) for a, b in zip(uninterrupted, again))


def test_the_index_is_rebuilt_identically_from_scratch(sequences, encoded_release, tmp_path):
    copy = tmp_path / "r"
    shutil.copytree(encoded_release, copy, ignore=shutil.ignore_patterns(".index"))
    rebuilt = MixtureSequences(str(copy), SEQ_LEN, len(sequences), val_fraction=0.02)
    for k in (0, 1, len(sequences) // 2, len(sequences) - 1):
        assert np.array_equal(rebuilt[k].tokens, sequences[k].tokens)
        assert rebuilt[k].source == sequences[k].source


def test_data_parallel_ranks_split_the_sequences_without_overlap(sequences):
    world = 3
    seen = [[s.index for s in sequences.iterate(start=10, rank=r, world=world)] for r in range(world)]
    assert sorted(i for rank in seen for i in rank) == list(range(10, len(sequences)))
    assert not set(seen[0]) & set(seen[1]) and not set(seen[1]) & set(seen[2])


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
