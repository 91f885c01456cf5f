//! What the fixture server sends: small filler pages of a chosen size, and
//! "realistic" pages whose size and latency are drawn, per page number,
//! from the distributions of real sites — the same for every client, run
//! after run.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// An HTML page of about `size` bytes titled `title`.
pub fn filler(title: &str, size: usize) -> String {
    let mut body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\n"
    );
    const FILLER: &str = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n";
    while body.len() + FILLER.len() + 15 <= size {
        body.push_str(FILLER);
    }
    body.push_str("</body></html>\n");
    body
}

/// Waits `delay` without holding a thread for most of it: tokio's timer
/// for all but the last 2 ms (it rounds up to its millisecond ticks, about
/// +1.8 ms on 50 ms by wrk), then a blocking-pool thread for the rest,
/// which is precise to ~0.1 ms. Thousands of requests can wait at once.
pub async fn precise_sleep(delay: Duration) {
    let end = Instant::now() + delay;
    let coarse = delay.saturating_sub(Duration::from_millis(2));
    if !coarse.is_zero() {
        tokio::time::sleep(coarse).await;
    }
    let left = end.saturating_duration_since(Instant::now());
    if !left.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(left)).await;
    }
}

/// A uniform number in [0, 1) from page `n` and a stream `salt`
/// (SplitMix64): deterministic, so every client meets the same pages.
fn unit(n: u64, salt: u64) -> f64 {
    let mut z = n
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Page `n`'s latency: log-normal, median 100 ms, σ 1.29 (p90 ≈ 0.5 s,
/// p99 ≈ 2 s), at most 8 s.
pub fn latency(n: u64) -> Duration {
    let (u1, u2) = (unit(n, 1).max(1e-12), unit(n, 2));
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    let ms = (100.0 * (1.29 * z).exp()).min(8000.0);
    Duration::from_micros((ms * 1000.0) as u64)
}

/// Page `n`'s size: log-uniform between 20 and 300 KB (median ~77 KB).
pub fn size(n: u64) -> usize {
    (20_000.0 * 15f64.powf(unit(n, 3))) as usize
}

/// A page as sites send them: a long head (meta tags, preloads, an inline
/// style sheet and scripts), navigation, an article, a footer and more
/// scripts, `size` bytes in all.
pub fn realistic(n: u64, size: usize) -> Vec<u8> {
    let mut page = Vec::with_capacity(size + 512);
    page.extend_from_slice(
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Article {n} – The Fixture Times</title>\
             <meta name=\"description\" content=\"Article {n}: what happened, and why it matters.\">\
             <meta property=\"og:title\" content=\"Article {n}\"><link rel=\"canonical\" href=\"/real/{n}\">"
        )
        .as_bytes(),
    );
    page.extend_from_slice(head_tail());
    let body = body_text();
    let mut at = (n as usize * 7919) % (body.len() / 2);
    while page.len() < size.saturating_sub(40) {
        let take = (size - 40 - page.len()).min(body.len() - at);
        page.extend_from_slice(&body[at..at + take]);
        at = 0;
    }
    page.extend_from_slice(b"</article></main></body></html>\n");
    page
}

/// The rest of a long head: preloads, an inline style sheet, scripts.
fn head_tail() -> &'static [u8] {
    static HEAD: OnceLock<Vec<u8>> = OnceLock::new();
    HEAD.get_or_init(|| {
        let mut h = String::new();
        for i in 0..12 {
            h.push_str(&format!(
                "<link rel=\"preload\" href=\"/static/font-{i}.woff2\" as=\"font\" crossorigin>"
            ));
        }
        h.push_str("<style>");
        for i in 0..120 {
            h.push_str(&format!(
                ".c{i}{{margin:{i}px;padding:0 {i}px;color:#{:06x}}}",
                i * 2731
            ));
        }
        h.push_str("</style><script>window.dataLayer=window.dataLayer||[];");
        for i in 0..80 {
            h.push_str(&format!(
                "function f{i}(a){{return a*{i}+dataLayer.length;}}"
            ));
        }
        h.push_str("</script></head><body><nav><ul>");
        for i in 0..30 {
            h.push_str(&format!(
                "<li><a href=\"/section/{i}\">Section {i}</a></li>"
            ));
        }
        h.push_str("</ul></nav><main><article><h1>The article</h1>");
        h.into_bytes()
    })
}

/// Article paragraphs, links and the odd script, to cut pages from.
fn body_text() -> &'static [u8] {
    static BODY: OnceLock<Vec<u8>> = OnceLock::new();
    BODY.get_or_init(|| {
        let mut b = String::new();
        let mut i = 0;
        while b.len() < 700_000 {
            b.push_str(&format!(
                "<p>Paragraph {i} of the story, with <a href=\"/real/{}\">a link</a> and some \
                 <em>emphasis</em>; the reporting continues at length here.</p>\n",
                i * 31 % 20_000
            ));
            if i % 25 == 0 {
                b.push_str(
                    "<script>(function(){var x=1;for(var k=0;k<9;k++){x+=k;}})();</script>\n",
                );
            }
            i += 1;
        }
        b.into_bytes()
    })
}
