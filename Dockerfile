# Weir in a container: the broker (`weir broker`) and the workers
# (`weir distributed`, configured by CONNECT_* variables) share this image.
FROM rust:1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release -p worker --bin weir

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl tzdata libssl3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/weir /usr/local/bin/weir
COPY scripts/bin /opt/weir/bin
ENV PATH="/opt/weir/bin:${PATH}" WEIR_BIN=/usr/local/bin/weir
EXPOSE 8083 9092
ENTRYPOINT ["weir"]
CMD ["distributed"]
