//! Decoding the current documented `imopenlines.dialog.get` answer: into the typed result
//! (lenient visitors, unknown keys kept, JSON path tracking) vs into `serde_json::Value`.
//!
//! `cargo bench -p b24-tests --bench decode` measures both with criterion and prints
//! `typed / value` as a ratio of the two mean times of this run.

use std::path::PathBuf;

use b24_openlines::imopenlines::dialog_get;
use criterion::{black_box, Criterion};

fn body() -> &'static [u8] {
    dialog_get::EXAMPLES
        .iter()
        .find(|e| e.name == "current")
        .map(|e| e.body.as_bytes())
        .expect("the current example exists")
}

fn mean_ns(dir: &std::path::Path, group: &str, id: &str) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(group).join(id).join("new/estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["slope"]["point_estimate"]
        .as_f64()
        .or_else(|| v["mean"]["point_estimate"].as_f64())
}

fn main() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("criterion");
    let mut c = Criterion::default()
        .output_directory(&out)
        .configure_from_args();
    let bytes = body();
    let mut group = c.benchmark_group("dialog_get_decode");
    group.bench_function("typed", |b| {
        b.iter(|| {
            b24_core::decode_response::<dialog_get::Response, dialog_get::ErrorCode>(
                dialog_get::METHOD,
                200,
                Some("application/json"),
                black_box(bytes),
            )
            .expect("decodes")
        })
    });
    group.bench_function("value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(bytes)).expect("parses"))
    });
    group.finish();
    c.final_summary();
    match (
        mean_ns(&out, "dialog_get_decode", "typed"),
        mean_ns(&out, "dialog_get_decode", "value"),
    ) {
        (Some(t), Some(v)) => println!(
            "dialog.get decode: typed {t:.0} ns, serde_json::Value {v:.0} ns, ratio typed/value = {:.2}",
            t / v
        ),
        _ => println!("dialog.get decode: no estimates (run without --test to measure)"),
    }
}
