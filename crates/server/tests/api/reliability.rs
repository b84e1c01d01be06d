//! Rows for RELIABILITY.md. A reliability test that passes writes one
//! row: what it tried, how many times, and what held, with the figures it
//! measured. `scripts/reliability.sh` gathers the rows into the table; a
//! test that fails writes none, so the table shows it missing.

use std::path::PathBuf;

/// Where rows go: `$ROSTER_RELIABILITY_DIR`, or `target/reliability/`.
fn rows_dir() -> PathBuf {
    std::env::var_os("ROSTER_RELIABILITY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/reliability")
        })
}

/// Writes the row of the test `test` of `suite`.
pub fn record(suite: &str, test: &str, tried: &str, times: u64, held: &str) {
    let dir = rows_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let row = serde_json::json!({
        "suite": suite,
        "test": test,
        "tried": tried,
        "times": times,
        "held": held,
    });
    let file = dir.join(format!("{suite}--{test}.json").replace(' ', "-"));
    std::fs::write(file, row.to_string()).unwrap();
}
