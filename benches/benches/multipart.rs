//! The multipart/related decoder against a plain `memchr::memmem` scan of the same bytes and
//! against the `multer` crate, on a deterministic 1 GiB body of 500 parts (random payloads, and
//! one part in five a near-miss payload dense in `\r\n--` and boundary prefixes), fed in 16 KiB
//! and 256 KiB chunks. Also the decoder's peak memory, which must not grow with part size.
//!
//! Run with `cargo bench -p dicomweb-benches --bench multipart`. Prints `RATIO <subject> vs
//! <baseline>: <n>` lines, n = subject throughput / baseline throughput.

// A benchmark stops on the first error: panicking with it is the report.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dicomweb_benches::Rng;
use dicomweb_core::multipart::{Boundary, Event, MultipartDecoder, MultipartLimits};

const PARTS: usize = 500;
const TOTAL: usize = 1 << 30;
const SEED: u64 = 0x5EED_D1C0_3EB0_0001;

/// A payload dense in near-misses: `\r\n--` followed by proper prefixes of the boundary,
/// between filler bytes that cannot continue a boundary. (Not the whole boundary followed by
/// another byte: multer takes `\r\n--<boundary>X` for a delimiter and fails, so the body
/// would not be "the same body" for both; the decoder's tests cover that case.)
fn near_miss_payload(rng: &mut Rng, boundary: &[u8], out: &mut Vec<u8>, len: usize) {
    let end = out.len() + len;
    while out.len() < end {
        out.extend_from_slice(b"\r\n--");
        let k = rng.below(boundary.len());
        out.extend_from_slice(&boundary[..k]);
        for _ in 0..rng.below(24) {
            out.push(0x80 | rng.next_u64() as u8); // never a bchar, CR, LF or '-'
        }
    }
    out.truncate(end);
    // The part's own delimiter follows: end on a filler byte, so that no prefix of a
    // delimiter (or a whole boundary) at the very end turns into a real one.
    if let Some(last) = out.last_mut() {
        *last = 0x80;
    }
}

struct Body {
    bytes: Bytes,
    boundary: Boundary,
    payload_bytes: u64,
}

fn generate(parts: usize, near_miss_every: usize, seed: u64) -> Body {
    let mut rng = Rng(seed);
    let mut random = [0u8; 24];
    for b in &mut random {
        *b = rng.next_u64() as u8;
    }
    let boundary = Boundary::from_random_bytes(random);
    let b = boundary.as_str().as_bytes();
    let per_part = TOTAL / parts;
    let mut out = Vec::with_capacity(TOTAL + parts * 128);
    let mut payload_bytes = 0;
    for i in 0..parts {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(b);
        out.extend_from_slice(b"\r\nContent-Type: application/dicom\r\n\r\n");
        let len = per_part - 100;
        if near_miss_every > 0 && i % near_miss_every == near_miss_every - 1 {
            near_miss_payload(&mut rng, b, &mut out, len);
        } else {
            rng.fill(&mut out, len);
        }
        payload_bytes += len as u64;
    }
    out.extend_from_slice(b"\r\n--");
    out.extend_from_slice(b);
    out.extend_from_slice(b"--\r\n");
    Body {
        bytes: Bytes::from(out),
        boundary,
        payload_bytes,
    }
}

/// Decodes `body` fed in `chunk`-byte slices (no copies); returns (parts, body bytes).
fn decode(body: &Body, chunk: usize) -> (usize, u64) {
    let mut decoder =
        MultipartDecoder::new(body.boundary.as_str(), MultipartLimits::default()).unwrap();
    let (mut parts, mut bytes) = (0, 0u64);
    let mut offset = 0;
    while offset < body.bytes.len() {
        let end = (offset + chunk).min(body.bytes.len());
        decoder.feed(body.bytes.slice(offset..end));
        offset = end;
        while let Some(event) = decoder.next_event().unwrap() {
            match event {
                Event::Headers(_) => parts += 1,
                Event::Body(b) => bytes += b.len() as u64,
                Event::PartEnd | Event::End => {}
            }
        }
    }
    decoder.finish().unwrap();
    (parts, bytes)
}

/// The floor: one memmem pass over the contiguous body for the delimiter.
fn memmem_scan(body: &Body) -> (usize, u64) {
    let delimiter = format!("\r\n--{}", body.boundary);
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    (
        finder.find_iter(&body.bytes).count(),
        body.bytes.len() as u64,
    )
}

fn multer(body: &Body, chunk: usize) -> (usize, u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let chunks: Vec<Result<Bytes, Infallible>> = (0..body.bytes.len())
        .step_by(chunk)
        .map(|o| Ok(body.bytes.slice(o..(o + chunk).min(body.bytes.len()))))
        .collect();
    let stream = futures_util::stream::iter(chunks);
    runtime.block_on(async {
        let mut multipart = multer::Multipart::new(stream, body.boundary.as_str());
        let (mut parts, mut bytes) = (0, 0u64);
        while let Some(mut field) = multipart.next_field().await.unwrap() {
            parts += 1;
            while let Some(b) = field.chunk().await.unwrap() {
                bytes += b.len() as u64;
            }
        }
        (parts, bytes)
    })
}

/// Best of `runs` timings; checks every run gives `expected`.
fn measure(
    name: &str,
    bytes: usize,
    runs: usize,
    expected: Option<(usize, u64)>,
    mut f: impl FnMut() -> (usize, u64),
) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        let result = black_box(f());
        best = best.min(start.elapsed());
        if let Some(expected) = expected {
            assert_eq!(result, expected, "{name} decoded something else");
        }
    }
    let throughput = bytes as f64 / best.as_secs_f64();
    println!(
        "{name:<28} {:>8.1} ms  {:>6.2} GiB/s",
        best.as_secs_f64() * 1e3,
        throughput / f64::from(1u32 << 30)
    );
    throughput
}

/// Peak resident memory (VmHWM) in bytes, after optionally resetting it.
fn peak_rss(reset: bool) -> Option<u64> {
    if reset {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Peak memory the decoder adds while decoding a body already in memory.
fn decoder_peak_growth(body: &Body, chunk: usize) -> Option<u64> {
    let before = peak_rss(true)?;
    black_box(decode(body, chunk));
    Some(peak_rss(false)?.saturating_sub(before))
}

fn main() {
    let started = Instant::now();
    let body = generate(PARTS, 5, SEED);
    let len = body.bytes.len();
    println!(
        "body: {} parts, {:.2} GiB, boundary {:?}, generated in {:.1} s",
        PARTS,
        len as f64 / f64::from(1u32 << 30),
        body.boundary.as_str(),
        started.elapsed().as_secs_f64()
    );
    let expected = Some((PARTS, body.payload_bytes));

    let memmem = measure("memmem_scan", len, 5, None, || memmem_scan(&body));
    let d16 = measure("multipart_decode_16k", len, 5, expected, || {
        decode(&body, 16 << 10)
    });
    let d256 = measure("multipart_decode_256k", len, 5, expected, || {
        decode(&body, 256 << 10)
    });
    let m16 = measure("multer_16k", len, 2, expected, || multer(&body, 16 << 10));

    let small_parts = decoder_peak_growth(&body, 16 << 10);
    drop(body);
    let big = generate(5, 0, SEED + 1);
    let big_parts = decoder_peak_growth(&big, 16 << 10);
    let show = |v: Option<u64>| v.map_or("unavailable".to_owned(), |b| format!("{} KiB", b / 1024));
    println!(
        "decoder peak memory growth (VmHWM), 16 KiB chunks: {} with 500 parts of 2 MiB, {} with 5 parts of 205 MiB",
        show(small_parts),
        show(big_parts)
    );
    println!("total time {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "RATIO multipart_decode_16k vs memmem_scan: {:.3}",
        d16 / memmem
    );
    println!(
        "RATIO multipart_decode_256k vs memmem_scan: {:.3}",
        d256 / memmem
    );
    println!("RATIO multipart_decode_16k vs multer: {:.3}", d16 / m16);
}
