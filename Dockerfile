# vmbackup service image: `docker build -t vmbackup .` then run with VMBACKUP_* settings.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 vmbackup
WORKDIR /srv/vmbackup

COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY emulator ./emulator
COPY migrations ./migrations
RUN pip install . && mkdir -p /data && chown vmbackup /data
# Import app from here, not site-packages: app.core.schema_version finds the Alembic scripts in
# ../migrations, which the wheel does not carry (`vmbackup migrate` and /readyz need them).
ENV PYTHONPATH=/srv/vmbackup

USER vmbackup
ENV VMBACKUP_DATABASE_URL=sqlite+aiosqlite:////data/vmbackup.db HOST=0.0.0.0 PORT=8000
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=2)"

CMD ["vmbackup", "serve", "--host", "0.0.0.0"]
