# The image the Kubernetes CronJob in deploy/cronjob.yaml runs:
#   docker build -t registry.example.com/lgs-reports:0.1.0 .
FROM python:3.11-slim-bookworm

# Pango and HarfBuzz for WeasyPrint; nothing else is needed at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md lgs_reports.example.toml ./
COPY lgs_reports ./lgs_reports
COPY sql ./sql
COPY templates ./templates
RUN pip install --no-cache-dir . && rm -rf /src

# Runs as an unprivileged user; the archive volume is mounted at /var/lib/lgs-reports.
RUN groupadd --gid 10001 lgs && useradd --create-home --uid 10001 --gid 10001 lgs \
    && mkdir -p /var/lib/lgs-reports \
    && chown lgs /var/lib/lgs-reports
USER lgs
WORKDIR /var/lib/lgs-reports
ENTRYPOINT ["python", "-m", "lgs_reports"]
