# syntax=docker/dockerfile:1

# perfgate as a container image. Two images come out of this file:
#   runtime  the published image (GitLab, Jenkins, docker run): distroless static with CA
#            certificates and busybox (GitLab's script: and Jenkins' sh steps need a
#            shell), non-root user, /work as the folder a CI job mounts.
#            docker build --target runtime -t perfgate .
#   action   the last stage, built by action.yml: GitHub runs Docker actions as root,
#            since the workspace it mounts belongs to the runner's user.
# The binary is static (CGO_ENABLED=0), built with -trimpath and stamped with VERSION.
# Every base image is pinned by tag and digest (the tag says what it is, the digest which
# one): a base image that moves changes every layer above it. Bump them deliberately.
#
# The runtime image runs as 65532 (nonroot). To write reports into a folder of the host
# that a bind mount brings in, run it as the folder's owner:
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/work" ghcr.io/perfgate/perfgate run

FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH=amd64
# .ci/image-check runs this very command outside Docker: keep it on one line.
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w -X github.com/perfgate/perfgate/gate/cli.Version=${VERSION}" -o /out/perfgate ./cmd/perfgate

FROM gcr.io/distroless/static-debian12:debug-nonroot@sha256:f414196eb26b4e7626e29e18776338e5dcc56a2afbe1c64321ab9bf7d7e57c45 AS runtime
COPY --from=build /out/perfgate /usr/local/bin/perfgate
WORKDIR /work
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/perfgate"]
CMD ["--help"]

FROM gcr.io/distroless/static-debian12:latest@sha256:d75cdd72874d4790092fcb1b058493ecf6bb5bf2b2b897045b00ff01d91843f2 AS action
COPY --from=build /out/perfgate /usr/local/bin/perfgate
ENTRYPOINT ["/usr/local/bin/perfgate"]
CMD ["action"]
