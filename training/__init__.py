"""The compact LLaMA trainer (installed as ``llama_data.training``)."""
