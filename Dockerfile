# syntax=docker/dockerfile:1
# Build a static beacongate binary, then run it as a non-root user on a
# distroless base. Config and data are volumes:
#   docker run -p 8080:8080 -v $PWD/beacongate.yaml:/etc/beacongate/config.yaml:ro \
#     -v beacongate-data:/var/lib/beacongate beacongate -config /etc/beacongate/config.yaml
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/beacongate ./cmd/beacongate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/beacongate /usr/local/bin/beacongate
VOLUME ["/var/lib/beacongate", "/etc/beacongate"]
EXPOSE 8080 9100
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/beacongate", "-data", "/var/lib/beacongate", "-admin", "0.0.0.0:9100"]
