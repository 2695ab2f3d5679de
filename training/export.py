"""Export a trained model and the release's tokenizer as a Hugging Face ``LlamaForCausalLM`` folder.

Our model computes exactly what ``LlamaForCausalLM`` computes (rotate-half rotary embeddings, see
model.py), so the weights are only renamed. The tokenizer is saved as ``tokenizer.json`` from
``tokenizer.hf.to_hf`` (the same ids as SentencePiece) and declared a plain
``PreTrainedTokenizerFast``: naming it ``LlamaTokenizer`` would make ``transformers`` rebuild its
pre-tokenizer, which splits leading and repeated spaces otherwise than SentencePiece does.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from safetensors.torch import save_file
from tokenizers import processors

from llama_data.io import atomic_path
from llama_data.tokenizer import hf
from llama_data.tokenizer import model as sp_model

from .model import Llama, ModelConfig

_TOP_LEVEL = {"tok_embeddings": "model.embed_tokens", "norm": "model.norm", "output": "lm_head"}
_IN_LAYER = {
    "attention.wq": "self_attn.q_proj", "attention.wk": "self_attn.k_proj",
    "attention.wv": "self_attn.v_proj", "attention.wo": "self_attn.o_proj",
    "feed_forward.w1": "mlp.gate_proj", "feed_forward.w3": "mlp.up_proj",
    "feed_forward.w2": "mlp.down_proj",
    "attention_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
}


def hf_name(name: str) -> str:
    """``layers.3.attention.wq.weight`` -> ``model.layers.3.self_attn.q_proj.weight``."""
    module, _, param = name.rpartition(".")
    if module.startswith("layers."):
        _, index, inner = module.split(".", 2)
        return f"model.layers.{index}.{_IN_LAYER[inner]}.{param}"
    return f"{_TOP_LEVEL[module]}.{param}"


def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    with atomic_path(path) as tmp:
        write(tmp)


def _write_json(path: Path, data: dict) -> None:
    _write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n"))


def hf_config(config: ModelConfig, bos_id: int, eos_id: int) -> dict:
    """``config.json`` of a ``LlamaForCausalLM``: our shape under Hugging Face's names, with the
    model's own RMSNorm epsilon (LLaMA 1's 1e-6 for the paper's sizes)."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": config.dim,
        "intermediate_size": config.hidden_dim,
        "num_hidden_layers": config.n_layers,
        "num_attention_heads": config.n_heads,
        "num_key_value_heads": config.n_heads,
        "vocab_size": config.vocab_size,
        "max_position_embeddings": config.max_seq_len,
        "rms_norm_eps": config.norm_eps,
        "rope_theta": config.rope_theta,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "torch_dtype": "float32",
    }


def export_hf(model: Llama, config: ModelConfig, tokenizer_model: str | Path,
              out_dir: str | Path) -> None:
    """Write ``out_dir`` so that ``LlamaForCausalLM.from_pretrained`` and
    ``AutoTokenizer.from_pretrained`` load it: config, float32 weights, tokenizer."""
    out = Path(out_dir)
    proto = sp_model.read_proto(tokenizer_model)
    if len(proto.pieces) > config.vocab_size:
        raise ValueError(f"{tokenizer_model} has {len(proto.pieces)} pieces, more than the "
                         f"model's vocabulary of {config.vocab_size}")
    spec = proto.trainer_spec
    unk, bos, eos = (proto.pieces[i].piece for i in (spec.unk_id, spec.bos_id, spec.eos_id))
    out.mkdir(parents=True, exist_ok=True)

    _write_json(out / "config.json", hf_config(config, spec.bos_id, spec.eos_id))
    tensors = {hf_name(name): p.detach().float().cpu().contiguous()
               for name, p in model.state_dict().items()}
    _write_atomic(out / "model.safetensors",
                  lambda tmp: save_file(tensors, str(tmp), metadata={"format": "pt"}))

    tokenizer = hf.to_hf(tokenizer_model)
    # The <s> that LLaMA puts before every text (also for `tokenizers` users without transformers).
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos}:0 $A:0", pair=f"{bos}:0 $A:0 {bos}:1 $B:1",
        special_tokens=[(bos, spec.bos_id)])
    _write_atomic(out / "tokenizer.json", lambda tmp: tokenizer.save(str(tmp)))
    _write_atomic(out / "tokenizer.model", lambda tmp: shutil.copyfile(tokenizer_model, tmp))
    specials = {"bos_token": bos, "eos_token": eos, "unk_token": unk}
    _write_json(out / "special_tokens_map.json", specials)
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        **specials,
        "add_bos_token": True,
        "add_eos_token": False,
        "model_max_length": config.max_seq_len,
        "clean_up_tokenization_spaces": False,
    })
