"""Where model files and model-building tools come from."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from llama_data.errors import LlamaDataError


class ToolNotFound(LlamaDataError):
    """A compiled tool (KenLM's lmplz, build_binary) that the set-up did not install."""


def kenlm_tool(name: str) -> Path:
    """KenLM's ``lmplz``/``build_binary``/``query``: from $LLAMA_DATA_TOOLS, beside this Python
    (scripts/setup.sh builds them into the virtual environment), or on PATH."""
    candidates = [os.environ.get("LLAMA_DATA_TOOLS"), str(Path(sys.executable).parent)]
    for folder in filter(None, candidates):
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ToolNotFound(f"KenLM's {name} not found (run scripts/setup.sh, or set LLAMA_DATA_TOOLS "
                       "to the folder holding it)")
