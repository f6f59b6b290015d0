# Multi-stage build: a static binary on a distroless base that runs as a
# non-root user and holds nothing but the binary and CA certificates.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/entrabridge ./cmd/entrabridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/entrabridge /usr/local/bin/entrabridge
COPY testdata/notifications /usr/share/entrabridge/notifications
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/entrabridge"]
HEALTHCHECK --interval=30s --timeout=5s CMD ["/usr/local/bin/entrabridge", "healthcheck"]
CMD ["serve"]
