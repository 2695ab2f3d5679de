"""The set-up builds KenLM's estimation tools; the CCNet stage trains its language models with them."""

from __future__ import annotations

import math
import subprocess

import kenlm
import pytest

from llama_data.models import ToolNotFound, kenlm_tool


def test_lmplz_and_build_binary_train_a_model_that_python_kenlm_loads(tmp_path):
    sentences = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog met",
                 "the mat was red", "the log was old"] * 20
    arpa, binary = tmp_path / "lm.arpa", tmp_path / "lm.bin"
    with arpa.open("wb") as out:
        subprocess.run([str(kenlm_tool("lmplz")), "-o", "3", "-S", "64M", "--discount_fallback"],
                       input="\n".join(sentences).encode(), stdout=out, stderr=subprocess.DEVNULL,
                       check=True)
    subprocess.run([str(kenlm_tool("build_binary")), str(arpa), str(binary)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    model = kenlm.Model(str(binary))
    assert model.order == 3
    seen, shuffled = model.score("the cat sat on the mat"), model.score("mat the on sat cat the")
    assert math.isfinite(seen) and seen > shuffled


def test_a_missing_tool_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolNotFound, match="scripts/setup.sh"):
        kenlm_tool("no-such-tool")
