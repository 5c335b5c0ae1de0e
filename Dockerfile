# ccm on the embedded default: SQLite, files and development keys under CCM_HOME.
# Production mounts an ICP-Brasil PKCS#12 and sets CCM_SIGNING_PKCS12(_PASSWORD),
# CCM_TSA_URL and CCM_ENVIRONMENT=production (see README, "Configuration").
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/ccm/.venv \
    UV_COMPILE_BYTECODE=1

# WeasyPrint's native libraries (Pango, HarfBuzz subsetting) and fontconfig.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir uv==0.13.9

WORKDIR /opt/ccm
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY ccm ccm
COPY channels channels
COPY signing signing
COPY api api
COPY templates templates
RUN uv sync --frozen --no-dev

RUN useradd --system --home-dir /var/lib/ccm --create-home ccm
USER ccm
ENV PATH=/opt/ccm/.venv/bin:$PATH \
    CCM_HOME=/var/lib/ccm
VOLUME /var/lib/ccm
ENTRYPOINT ["ccm"]
CMD ["--help"]
