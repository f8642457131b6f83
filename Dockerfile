# syntax=docker/dockerfile:1
# Build a static beacongate binary, then run it as a non-root user on a
# distroless base (no shell, no curl: the health check is the binary's own
# `beacongate healthcheck`).
#
#   docker build --build-arg COMMIT=$(git rev-parse HEAD) -t beacongate .
#   docker run -p 8080:8080 -p 9100:9100 \
#     -v $PWD/beacongate.yaml:/etc/beacongate/config.yaml:ro \
#     -v beacongate-data:/var/lib/beacongate beacongate -config /etc/beacongate/config.yaml
#
# The health check probes the admin listener on 127.0.0.1:9100: override
# HEALTHCHECK too if you move it with -admin.
#
# The admin listener binds all interfaces so that /metrics, /healthz and
# /readyz can be scraped; POST /-/reload and /debug/pprof/ answer loopback
# peers only, or anyone with the token of -admin-token-file (mount it as a
# secret). The image has no shell or curl: reload the config with
# docker kill --signal HUP CONTAINER. The default shutdown timeout (8s) fits Docker's
# 10s stop timeout; raise both (server.shutdown_timeout, docker stop -t)
# together, adding server.drain_delay when a load balancer reads /readyz.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build context has no .git (see .dockerignore): pass the revision and
# version in, for `beacongate version` and beacongate_build_info.
ARG COMMIT=""
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.commit=${COMMIT} -X main.version=${VERSION}" \
      -o /out/beacongate ./cmd/beacongate \
 && mkdir -p /out/varlib/beacongate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/beacongate /usr/local/bin/beacongate
# The data directory exists in the image, owned by the runtime user
# (nonroot, uid 65532): a new named volume mounted on it starts as a copy,
# owner included, so the gateway can create its spool there. The parent's
# contents are copied so that beacongate/ is a new directory COPY creates,
# which --chown covers (an existing destination keeps its owner).
COPY --from=build --chown=65532:65532 /out/varlib/ /var/lib/
VOLUME ["/var/lib/beacongate"]
EXPOSE 8080 9100
USER 65532:65532
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/beacongate", "healthcheck", "-admin", "127.0.0.1:9100"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/beacongate", "-data", "/var/lib/beacongate", "-admin", "0.0.0.0:9100"]
