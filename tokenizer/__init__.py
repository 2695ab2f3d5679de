"""SentencePiece tokenizer training and shard encoding (installed as ``llama_data.tokenizer``)."""
