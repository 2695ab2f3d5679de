"""SentencePiece trains on every core; the model it writes is the same with any number of them."""

from __future__ import annotations

import shutil

from llama_data.tokenizer import model, train


def test_the_model_file_is_the_same_with_one_thread_or_several_and_anywhere(corpus_release,
                                                                            tmp_path):
    paths = []
    for threads in (1, 3):
        release = tmp_path / f"release-{threads}"  # a different folder: a different input path
        shutil.copytree(corpus_release, release)
        record = train.train(str(release), {"wikipedia": 1.0}, vocab_size=600,
                             sample_bytes=300_000, threads=threads)
        paths.append(release / record["path"])
    assert paths[0].read_bytes() == paths[1].read_bytes()
    spec = model.read_proto(paths[0]).trainer_spec
    assert not spec.HasField("num_threads") and not spec.input and not spec.model_prefix
    assert spec.vocab_size == 600 and spec.model_type == spec.BPE
