"""llama-data: LLaMA-style pretraining data from the raw public dumps."""

__version__ = "0.1.0"
