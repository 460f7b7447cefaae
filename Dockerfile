# Meldestelle as a container image. README "Container image" explains
# building, running and what is tested (nothing here is built in CI: the
# CI machine has no registry to fetch the base images from).
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t meldestelle .
#   docker build --target pdf ... -t meldestelle:pdf .    # with Chromium for the case file's PDF
#
# Top level rather than deploy/: the build context is the whole repository
# anyway, `docker build .` needs no -f, and .dockerignore only applies at
# the context's root.

# One Debian release for both stages: the binary links glibc dynamically
# (see below), so it must run on the glibc it was built against. Change
# it here only, never in one FROM alone.
ARG DEBIAN_RELEASE=trixie

# --- Build: the official Go image on Debian; cgo with gcc for SQLite -----
FROM golang:1.26-${DEBIAN_RELEASE} AS build
WORKDIR /src
# Modules first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The same build as the package's: scripts/build (cgo on, -trimpath,
# -ldflags "-s -w -X main.version=…"). .git is not in the context, so the
# version comes in as a build argument; without one it reads "devel".
#
# Linked dynamically against glibc, not statically: a static glibc binary
# still loads NSS modules and shared libraries at run time (host lookups
# for the mail server through getaddrinfo, SQLite's dlopen; the linker
# warns about both), and they would have to come from exactly the glibc
# it was linked with. Dynamic against the same Debian release's glibc is
# what the Debian package does too; musl (Alpine) is not tested.
ARG VERSION=devel
# The cache mount keeps SQLite's compiled C between builds (minutes); it
# needs BuildKit (Docker 23+ default) or Buildah/Podman.
RUN --mount=type=cache,target=/root/.cache/go-build \
    VERSION="${VERSION}" scripts/build

# --- Runtime base: shared by the slim and pdf targets --------------------
FROM debian:${DEBIAN_RELEASE}-slim AS base
# ca-certificates: the mail server's certificate is verified (STARTTLS).
# tzdata: office times are shown in Europe/Berlin; slim images lack it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
# A fixed UID/GID, so that volume ownership is the same on every host and
# after every rebuild. No login shell, no home.
# The same paths as the Debian package, so that its env file
# (deploy/meldestelle.env) works unchanged. 0700: the database and the
# server secret are the service's alone. A named volume copies this owner
# and mode when it is first mounted.
RUN groupadd --system --gid 10001 meldestelle \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin meldestelle \
    && install -d -m 0700 -o 10001 -g 10001 /var/lib/meldestelle /var/backups/meldestelle
COPY --from=build /src/dist/meldestelle /usr/bin/meldestelle
# Defaults for a run without the env file; the env file sets the same.
# The address is not the binary's loopback default: inside the container
# loopback is unreachable from outside, and 0.0.0.0 here only means the
# container's own network interface. Who can reach it is decided by the
# publish flag (-p 127.0.0.1:8080:8080: this host's proxy only).
# TMPDIR: the root file system is read-only; uploads that do not fit in memory
# and SQLite's temporary files go to the tmpfs /tmp (README), so an
# uploaded file's plaintext never reaches a disk.
ENV MELDESTELLE_DATA=/var/lib/meldestelle \
    MELDESTELLE_ADDR=0.0.0.0:8080 \
    TMPDIR=/tmp
WORKDIR /var/lib/meldestelle
# The data directory: database and server secret. Backups get their own
# volume (README), not declared here: an anonymous volume would hold them
# where `docker rm -v` deletes them.
VOLUME /var/lib/meldestelle
EXPOSE 8080
# serve finishes running requests and closes the database on SIGTERM.
STOPSIGNAL SIGTERM
# No HEALTHCHECK: the binary has no probe subcommand and the image has no
# curl (nor should it). Let the orchestrator probe GET /readyz (503 when
# the database cannot be written) and /healthz.
ENTRYPOINT ["/usr/bin/meldestelle"]
# -addr as a flag: the package's env file says 127.0.0.1:8080 (right on a
# host, unreachable in a container), and a flag wins over the variable.
CMD ["serve", "-addr", "0.0.0.0:8080"]

# --- pdf: with headless Chromium for the case file's PDF export ----------
# docker build --target pdf. About 400 MB larger. Chromium's own sandbox
# needs user namespaces, which Docker's default seccomp profile may deny
# to a non-root user: see README "Container image".
FROM base AS pdf
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
# Chromium's profile is a fresh directory under $TMPDIR per document;
# fontconfig and NSS write under $HOME. Both on the tmpfs /tmp, as the
# root file system is read-only.
ENV MELDESTELLE_CHROMIUM=/usr/bin/chromium \
    HOME=/tmp
USER 10001:10001

# --- slim (default): the binary only; PDF export offers the print page ---
FROM base AS slim
USER 10001:10001
