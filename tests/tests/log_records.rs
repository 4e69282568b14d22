//! An application that logs with the `log` crate gets the runtime's records (tracing's `log`
//! feature: with no `tracing` subscriber set, events become `log` records), and none of them
//! holds a secret, through every leak of `leaks`. A test binary of its own: a `tracing`
//! subscriber set anywhere in the process, even on another thread, turns those records off
//! for good. (b24-runtime's own `tests/log_records.rs` shows that it enables the feature
//! itself; here axum enables it too.)

use std::sync::Mutex;

mod leaks;

/// Every record, as `LEVEL target: message fields`.
struct Records(Mutex<Vec<String>>);

impl log::Log for Records {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    }
    fn flush(&self) {}
}

static RECORDS: Records = Records(Mutex::new(Vec::new()));

#[tokio::test]
async fn runtime_records_reach_a_log_logger_without_secrets() {
    log::set_logger(&RECORDS).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let texts = leaks::leaky_calls().await;
    let log = RECORDS.0.lock().unwrap().join("\n");
    assert!(
        log.lines().any(|l| l.contains(" b24_runtime: ")),
        "the runtime's records reach the logger:\n{log}"
    );
    leaks::assert_logged_without_secrets(&texts, &log);
}
