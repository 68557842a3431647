//! Prometheus metrics: the registry and the few counters, gauges and histograms Easel keeps.
//!
//! Owns metric names and help texts. Other modules record through [`metrics()`]; only
//! `http` renders them (`GET /metrics`). Knows nothing of rooms, sockets or SQL.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicI64, Ordering};

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// Every metric Easel exports.
pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections.
    pub connections: IntGauge,
    /// Rooms (boards) loaded in memory.
    pub rooms: IntGauge,
    /// Inbound y-sync messages, by kind.
    pub messages_in: IntCounterVec,
    /// Inbound WebSocket bytes.
    pub bytes_in: IntCounter,
    /// Outbound frames queued to connections.
    pub messages_out: IntCounter,
    /// Outbound bytes queued to connections.
    pub bytes_out: IntCounter,
    /// Document updates applied to rooms.
    pub updates_applied: IntCounter,
    /// Updates per store write (group commit size).
    pub persist_batch: Histogram,
    /// Seconds per store write of a batch.
    pub persist_seconds: Histogram,
    /// Callers per admission read (handshakes of one board gathered into one query).
    pub admission_batch: Histogram,
    /// Seconds from receiving an update to queuing it for the other members (durability included).
    pub fanout_seconds: Histogram,
    /// Messages or connections refused, by reason.
    pub rejected: IntCounterVec,
    /// Failed store operations from rooms.
    pub store_errors: IntCounter,
    /// Change-feed events (access changes made anywhere) this node has read and applied.
    pub access_events: IntCounter,
    /// Updates other processes appended to a live board's log, read and applied here.
    pub log_followed: IntCounter,
    /// Reads of a live board's log for what other processes appended.
    pub log_reads: IntCounter,
    /// Messages for other processes (presence) dropped: queue full or store unreachable.
    pub relay_dropped: IntCounter,
    /// Password hashes and verifications allowed to run at once.
    pub password_hash_slots: IntGauge,
    /// Password hashes and verifications done (each holds 19 MiB while it runs).
    pub password_hashes: IntCounter,
    password_hashes_running: IntGauge,
    password_hashes_peak: IntGauge,
    hashes_running: AtomicI64,
    hashes_peak: AtomicI64,
}

/// A password hash counted as running until it is dropped.
pub struct HashRunning(());

impl Drop for HashRunning {
    fn drop(&mut self) {
        metrics().hashes_running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let latency = vec![
            0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
        ];
        let m = Self {
            connections: IntGauge::new("easel_connections", "Open WebSocket connections")
                .expect("metric"),
            rooms: IntGauge::new("easel_rooms", "Boards loaded in memory").expect("metric"),
            messages_in: IntCounterVec::new(
                Opts::new("easel_messages_in_total", "Inbound y-sync messages by kind"),
                &["kind"],
            )
            .expect("metric"),
            bytes_in: IntCounter::new("easel_bytes_in_total", "Inbound WebSocket bytes")
                .expect("metric"),
            messages_out: IntCounter::new("easel_messages_out_total", "Outbound frames queued")
                .expect("metric"),
            bytes_out: IntCounter::new("easel_bytes_out_total", "Outbound bytes queued")
                .expect("metric"),
            updates_applied: IntCounter::new(
                "easel_updates_applied_total",
                "Document updates applied",
            )
            .expect("metric"),
            persist_batch: Histogram::with_opts(
                HistogramOpts::new(
                    "easel_persist_batch_size",
                    "Updates per store write (group commit)",
                )
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 512.0]),
            )
            .expect("metric"),
            admission_batch: Histogram::with_opts(
                HistogramOpts::new(
                    "easel_admission_batch_size",
                    "Callers per admission read (handshakes of one board gathered into one query)",
                )
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 512.0]),
            )
            .expect("metric"),
            persist_seconds: Histogram::with_opts(
                HistogramOpts::new("easel_persist_seconds", "Seconds per store write")
                    .buckets(latency.clone()),
            )
            .expect("metric"),
            fanout_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "easel_fanout_seconds",
                    "Seconds from receiving an update to fanning it out",
                )
                .buckets(latency),
            )
            .expect("metric"),
            rejected: IntCounterVec::new(
                Opts::new(
                    "easel_rejected_total",
                    "Refused messages and connections by reason",
                ),
                &["reason"],
            )
            .expect("metric"),
            store_errors: IntCounter::new(
                "easel_store_errors_total",
                "Failed store operations from rooms",
            )
            .expect("metric"),
            access_events: IntCounter::new(
                "easel_access_events_total",
                "Change-feed events (access changes made anywhere) applied",
            )
            .expect("metric"),
            log_followed: IntCounter::new(
                "easel_log_followed_updates_total",
                "Updates appended by other processes, applied by this one's rooms",
            )
            .expect("metric"),
            log_reads: IntCounter::new(
                "easel_log_reads_total",
                "Reads of a live board's log for other processes' updates",
            )
            .expect("metric"),
            relay_dropped: IntCounter::new(
                "easel_relay_dropped_total",
                "Presence messages for other processes dropped",
            )
            .expect("metric"),
            password_hash_slots: IntGauge::new(
                "easel_password_hash_slots",
                "Password hashes allowed to run at once",
            )
            .expect("metric"),
            password_hashes: IntCounter::new(
                "easel_password_hashes_total",
                "Password hashes and verifications done",
            )
            .expect("metric"),
            password_hashes_running: IntGauge::new(
                "easel_password_hashes_running",
                "Password hashes and verifications running now",
            )
            .expect("metric"),
            password_hashes_peak: IntGauge::new(
                "easel_password_hashes_peak",
                "The most password hashes that ran at once since start",
            )
            .expect("metric"),
            hashes_running: AtomicI64::new(0),
            hashes_peak: AtomicI64::new(0),
            registry,
        };
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(m.connections.clone()),
            Box::new(m.rooms.clone()),
            Box::new(m.messages_in.clone()),
            Box::new(m.bytes_in.clone()),
            Box::new(m.messages_out.clone()),
            Box::new(m.bytes_out.clone()),
            Box::new(m.updates_applied.clone()),
            Box::new(m.persist_batch.clone()),
            Box::new(m.persist_seconds.clone()),
            Box::new(m.admission_batch.clone()),
            Box::new(m.fanout_seconds.clone()),
            Box::new(m.rejected.clone()),
            Box::new(m.store_errors.clone()),
            Box::new(m.access_events.clone()),
            Box::new(m.log_followed.clone()),
            Box::new(m.log_reads.clone()),
            Box::new(m.relay_dropped.clone()),
            Box::new(m.password_hash_slots.clone()),
            Box::new(m.password_hashes.clone()),
            Box::new(m.password_hashes_running.clone()),
            Box::new(m.password_hashes_peak.clone()),
        ];
        for c in collectors {
            m.registry.register(c).expect("unique metric names");
        }
        m
    }

    /// Counts a password hash (or verification) as running until the guard drops, and
    /// raises the peak if it is the most that ever ran at once.
    pub fn password_hash_started(&self) -> HashRunning {
        self.password_hashes.inc();
        let running = self.hashes_running.fetch_add(1, Ordering::SeqCst) + 1;
        self.hashes_peak.fetch_max(running, Ordering::SeqCst);
        HashRunning(())
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        self.password_hashes_running
            .set(self.hashes_running.load(Ordering::SeqCst));
        self.password_hashes_peak
            .set(self.hashes_peak.load(Ordering::SeqCst));
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
