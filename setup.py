"""Shim for tools that still want setup.py (Beam's --setup_file on Dataflow); config is in setup.cfg."""
from setuptools import setup

setup()
