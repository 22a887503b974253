# Vitrina: multi-stage build. The runtime image holds the release binary, its resources and the system libraries it
# links (libargon2, Foundation's ICU/XML/curl), runs as an unprivileged user and reads DATABASE_URL from the
# environment (the embedded PostgreSQL is for development; in a container, point it at a real server).

FROM swift:6.3-bookworm AS build
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends libargon2-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Resolve dependencies first so source edits do not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks
RUN swift build -c release --product vitrina --static-swift-stdlib \
    && mkdir -p /staging \
    && cp "$(swift build -c release --show-bin-path)/vitrina" /staging/

FROM debian:bookworm-slim
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends libargon2-1 libcurl4 libxml2 tzdata ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin vitrina
WORKDIR /app
COPY --from=build /staging/vitrina /usr/local/bin/vitrina
COPY Templates ./Templates
COPY Public ./Public
COPY Migrations ./Migrations
COPY tenants.example.yml ./
RUN mkdir -p /app/data && chown vitrina: /app/data
USER vitrina
ENV VITRINA_RESOURCES_DIR=/app \
    VITRINA_DATA_DIR=/app/data \
    VITRINA_TRUST_PROXY=true
# DATABASE_URL must be provided at run time, e.g. postgres://vitrina:secret@db:5432/vitrina
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["vitrina"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
