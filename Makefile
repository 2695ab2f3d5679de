# The two commands of README.md: `make demo` and `make test`. Both install what they need first.
VENV := .venv
PYTEST_ARGS ?=

.PHONY: setup demo test bench bench-train bench-commoncrawl bench-c4 bench-code-qa clean

setup:
	scripts/setup.sh

demo: setup
	$(VENV)/bin/llama-data demo

test:
	scripts/setup.sh test
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

bench:
	scripts/setup.sh bench
	$(VENV)/bin/python bench/wikipedia.py
	$(VENV)/bin/python bench/tokenizer.py

bench-commoncrawl:
	scripts/setup.sh bench
	$(VENV)/bin/python bench/commoncrawl.py
	$(VENV)/bin/python bench/html_extract.py

bench-c4:
	scripts/setup.sh bench
	$(VENV)/bin/python bench/c4.py

bench-code-qa:
	scripts/setup.sh bench
	$(VENV)/bin/python bench/code_qa.py

bench-train:
	scripts/setup.sh bench
	$(VENV)/bin/python bench/train.py

clean:
	rm -rf $(VENV) build *.egg-info demo-release
