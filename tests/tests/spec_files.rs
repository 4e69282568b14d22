//! Snapshots per spec file, found by glob so that a new file gets its own with no edit here:
//! the pretty-printed code generated from it (a method's module; an event's module with the
//! `Event` enum), and for an event, each documented payload as `Event::parse` decodes it.
//! Review every diff as code.

use std::path::Path;

use b24_codegen::Options;
use b24_openlines::events::{self, Event};
use b24_openlines::ApplicationToken;
use b24_spec::SpecFile;
use serde_json::Value;

fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn parse(path: &Path) -> SpecFile {
    let rel = path.strip_prefix(workspace_root()).unwrap_or(path);
    let src = std::fs::read_to_string(path).expect("a spec file reads");
    b24_spec::parse_file(rel, &src).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn generated_code() {
    insta::glob!("../../spec", "**/*.toml", |path| {
        let options = Options::default();
        let tokens = match parse(path) {
            SpecFile::Method(spec) => b24_codegen::generate(&[spec], &options),
            SpecFile::Event(event) => b24_codegen::generate_family(&[], &[event], &options),
        }
        .unwrap_or_else(|e| panic!("{e}"));
        let code = b24_codegen::pretty(&tokens).expect("the generated code parses");
        insta::assert_snapshot!(code);
    });
}

const TOKEN: &str = "51856fefc120afa4b628cc82d3935cce";

#[test]
fn decoded_event_payloads() {
    let token = ApplicationToken::new(TOKEN);
    insta::glob!("../../spec", "events/*.toml", |path| {
        let SpecFile::Event(spec) = parse(path) else {
            panic!("spec/events/ holds event specs");
        };
        let (_, examples) = events::EXAMPLES
            .iter()
            .find(|(name, _)| *name == spec.event)
            .unwrap_or_else(|| panic!("{} is generated", spec.event));
        assert_eq!(examples.len(), spec.examples.len(), "{}", spec.event);
        let decoded: Vec<(&str, Event)> = examples
            .iter()
            .map(|ex| {
                let mut body: Value = serde_json::from_str(ex.body).expect("payloads are JSON");
                body["auth"]["application_token"] = Value::from(TOKEN);
                let bytes = serde_json::to_vec(&body).expect("JSON serialises");
                let event = Event::parse(&bytes, &token)
                    .unwrap_or_else(|e| panic!("{} / {}: {e}", spec.event, ex.name));
                assert!(!matches!(event, Event::Other(_)), "{}", spec.event);
                (ex.name, event)
            })
            .collect();
        insta::assert_debug_snapshot!(decoded);
    });
}
