# syntax=docker/dockerfile:1

# perfgate as a container image. Two images come out of this file:
#   runtime  the published image (GitLab, Jenkins, docker run): distroless static with CA
#            certificates and busybox (GitLab's script: and Jenkins' sh steps need a
#            shell), non-root user, /work as the folder a CI job mounts.
#            docker build --target runtime -t perfgate .
#   action   the last stage, built by action.yml: GitHub runs Docker actions as root,
#            since the workspace it mounts belongs to the runner's user.
# The binary is static (CGO_ENABLED=0), built with -trimpath and stamped with VERSION.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH=amd64
# .ci/image-check runs this very command outside Docker: keep it on one line.
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w -X github.com/perfgate/perfgate/gate/cli.Version=${VERSION}" -o /out/perfgate ./cmd/perfgate

FROM gcr.io/distroless/static-debian12:debug-nonroot AS runtime
COPY --from=build /out/perfgate /usr/local/bin/perfgate
WORKDIR /work
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/perfgate"]
CMD ["--help"]

FROM gcr.io/distroless/static-debian12 AS action
COPY --from=build /out/perfgate /usr/local/bin/perfgate
ENTRYPOINT ["/usr/local/bin/perfgate"]
CMD ["action"]
