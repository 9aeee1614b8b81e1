//! count-rs: an EdgeVault module in Rust (ABI wasi-p1-stdio/1), with the standard library only.
//! It counts the readings of each stream and prints
//!     {"type":"example.count/v1","counts":{"a/b":12,"c":3}}
//!
//! stdin: the job-input header line, then one reading per line, {"stream":…,"t":…,"v":…}.
//! stdout: the output. stderr: shown to the person, never released. Exit 0 = success.
//!
//! Build, on Debian 12 (apt-get install rustc libstd-rust-dev-wasm32 lld-14 wabt), in this folder:
//!     rustc --edition 2021 --target wasm32-wasi -C opt-level=2 -C panic=abort -C strip=symbols \
//!         -C link-arg=--max-memory=16777216 -o count-rs.wasm src/main.rs
//! (with apt's cargo: RUSTFLAGS="-C link-arg=--max-memory=16777216" cargo build --release --target wasm32-wasi;
//! with rustup's Rust 1.78 or later the target is wasm32-wasip1). docs/MODULES.md has the details. A real module would parse JSON with a library (serde_json);
//! this one finds the "stream" member with a few lines of its own to need nothing but std.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::process::exit;

fn fail(message: &str) -> ! {
    eprintln!("count-rs: {}", message);
    exit(2)
}

fn main() {
    let stdin = io::stdin();
    let mut lines = stdin.lock().lines();
    match lines.next() {
        Some(Ok(header)) if member_string(&header, "type").as_deref() == Some("edgevault.job-input/v1") => {}
        _ => fail("expected the job-input header line"),
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (i, line) in lines.enumerate() {
        let line = line.unwrap_or_else(|e| fail(&format!("input line {}: {}", i + 2, e)));
        if line.trim().is_empty() {
            continue;
        }
        match member_string(&line, "stream") {
            Some(stream) => *counts.entry(stream).or_insert(0) += 1,
            None => fail(&format!("input line {}: a reading without a \"stream\"", i + 2)),
        }
    }
    let mut out = String::from("{\"type\":\"example.count/v1\",\"counts\":{");
    for (i, (stream, n)) in counts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{}:{}", json_string(stream), n));
    }
    out.push_str("}}\n");
    let mut stdout = io::stdout().lock();
    if stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()).is_err() {
        eprintln!("count-rs: writing the output failed");
        exit(1);
    }
}

/// The string value of `key` among the top-level members of the JSON object on `line`.
fn member_string(line: &str, key: &str) -> Option<String> {
    let b = line.as_bytes();
    let (mut i, mut depth, mut at_key) = (0usize, 0usize, false);
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => {
                depth += 1;
                at_key = b[i] == b'{' && depth == 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            b',' => {
                at_key = depth == 1;
                i += 1;
            }
            b'"' => {
                let (s, next) = string_at(b, i)?;
                i = next;
                if at_key {
                    at_key = false;
                    while b.get(i).map_or(false, |c| c.is_ascii_whitespace()) {
                        i += 1;
                    }
                    if b.get(i) != Some(&b':') {
                        return None;
                    }
                    i += 1;
                    while b.get(i).map_or(false, |c| c.is_ascii_whitespace()) {
                        i += 1;
                    }
                    if s == key {
                        return if b.get(i) == Some(&b'"') { string_at(b, i).map(|(v, _)| v) } else { None };
                    }
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The JSON string starting at b[start] (a '"'), and the index after it. Escapes other than
/// \" \\ \/ \n \t \r \b \f are kept as written (stream names never need them).
fn string_at(b: &[u8], start: usize) -> Option<(String, usize)> {
    let mut out = Vec::new();
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Some((String::from_utf8(out).ok()?, i + 1)),
            b'\\' => {
                let c = *b.get(i + 1)?;
                match c {
                    b'"' | b'\\' | b'/' => out.push(c),
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    _ => out.extend_from_slice(&[b'\\', c]),
                }
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    None
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
