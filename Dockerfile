# The mock TerraFix API image, built the ordinary way (needs a registry for the base images):
#   docker build -t terrafix-tui .
#   docker run --rm -p 127.0.0.1:8081:8081 terrafix-tui
# `terrafix-tui env up` does not need this file: offline it assembles an equivalent image
# from the running executable (FROM scratch plus the shared libraries it links).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin terrafix-tui

FROM debian:bookworm-slim
COPY --from=build /src/target/release/terrafix-tui /usr/local/bin/terrafix-tui
LABEL io.terrafix.service="terrafix-api"
EXPOSE 8081
ENV REDIS_URL=redis://redis:6379/0
# `docker inspect terrafix-api --format '{{.State.Health.Status}}'` reads healthy: the binary
# checks itself (the images `env up` builds offline have no curl either).
HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/terrafix-tui", "health", "--timeout", "3", "http://127.0.0.1:8081/health"]
ENTRYPOINT ["/usr/local/bin/terrafix-tui"]
CMD ["serve", "--bind", "0.0.0.0", "--port", "8081"]
