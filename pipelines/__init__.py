"""Apache Beam graphs, one module per source, wiring llama_data's pure functions into DoFns.

Installed as ``llama_data.pipelines``.
"""
