import Foundation
import Hummingbird
import Metrics
import NIOCore
import Prometheus

/// swift-metrics in Prometheus' text format. The executable bootstraps it once per process; everything else records
/// through swift-metrics (`Counter`, `Gauge`, `Timer`) and never sees Prometheus.
public enum Observability {
    /// A registry with swift-metrics bootstrapped onto it. Call once per process.
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Pages take milliseconds: buckets from half a millisecond.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
            .seconds(5), .seconds(10),
        ]
        factory.nameAndLabelSanitizer = { name, labels in
            (metricNames[name] ?? sanitize(name), labels.map { (labelNames[$0.0] ?? sanitize($0.0), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// Hummingbird's metric names, as Prometheus spells such things.
    static let metricNames = [
        "hb.requests": "vitrina_http_requests_total",
        "hb.request.errors": "vitrina_http_request_errors_total",
        "http.server.request.duration": "vitrina_http_request_duration_seconds",
        "http.server.active_requests": "vitrina_http_active_requests",
    ]
    static let labelNames = [
        "http.route": "route", "http.request.method": "method", "http.response.status_code": "status", "error.type": "error",
    ]

    /// Letters, digits and underscores only.
    static func sanitize(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }
}

/// `GET /metrics`: the Prometheus text format. On the public listener only with `Authorization: Bearer <token>`
/// (VITRINA_METRICS_TOKEN); on the separate metrics listener (VITRINA_METRICS_ADDRESS) without one. Elsewhere 404.
public struct MetricsController: Sendable {
    let registry: PrometheusCollectorRegistry
    let queue: JobQueue
    /// The bearer token the public listener asks for; `nil`: `/metrics` is not on the public listener.
    let token: String?

    public init(registry: PrometheusCollectorRegistry, queue: JobQueue, token: String?) {
        self.registry = registry
        self.queue = queue
        self.token = token
    }

    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get(SiteURL.metrics.pattern) { request, _ in try await metrics(request) }
    }

    func metrics(_ request: Request) async throws -> Response {
        if let token {
            let header = request.headers[.authorization] ?? ""
            let presented = header.lowercased().hasPrefix("bearer ") ? String(header.dropFirst(7)) : ""
            guard SecretToken.constantTimeEquals(presented, token) else { throw HTTPError(.notFound) }
        }
        // The queue's depth is read when asked for, so it is as fresh as the scrape.
        for depth in (try? await queue.depth()) ?? [] {
            Gauge(label: "vitrina_jobs_queued", dimensions: [("kind", depth.kind)]).record(depth.queued)
            Gauge(label: "vitrina_jobs_running", dimensions: [("kind", depth.kind)]).record(depth.running)
            Gauge(label: "vitrina_jobs_failed", dimensions: [("kind", depth.kind)]).record(depth.failed)
            Gauge(label: "vitrina_jobs_lag_seconds", dimensions: [("kind", depth.kind)]).record(depth.lagSeconds)
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}
