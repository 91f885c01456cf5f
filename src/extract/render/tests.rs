use dom_query::Document;
use url::Url;

use super::*;

fn base() -> Url {
    Url::parse("https://site.example/dir/page.html").unwrap()
}

/// (text, markdown) of the body of `html`.
fn both(html: &str) -> (String, String) {
    let doc = Document::from(html);
    let body = doc.select("body");
    let root = body.nodes().first().copied().unwrap();
    let base = base();
    (text(&root, Some(&base)), markdown(&root, Some(&base)))
}

#[test]
fn source_line_breaks_are_spaces_and_blocks_are_lines() {
    let (text, md) = both(
        "<body><p>One sentence\n   wrapped in the source.</p>\n<p>Two</p><div>three</div>tail</body>",
    );
    assert_eq!(
        text,
        "One sentence wrapped in the source.\n\nTwo\n\nthree\n\ntail"
    );
    assert_eq!(md, text);
}

#[test]
fn br_is_a_hard_break() {
    let (text, md) = both("<body><p>line one<br>line two<br></p></body>");
    assert_eq!(text, "line one\nline two");
    assert_eq!(md, "line one\\\nline two");
}

#[test]
fn emphasis_keeps_spaces_outside_and_survives_br() {
    let (_, md) = both(
        "<body><p>a<strong>&nbsp;bold&nbsp;</strong>b <em>one<br>two</em> <b> </b>c</p></body>",
    );
    assert_eq!(md, "a **bold** b *one*\\\n*two* c");
}

#[test]
fn links_are_absolute_with_raw_ampersands_and_anchors() {
    let (text, md) = both(
        "<body><p><a href='../q?a=1&amp;b=2'>query</a> <a href='#sec'>anchor</a> \
         <a href='javascript:void(0)'>js</a> <a href='x'><img src='i.png' alt='pic'></a></p></body>",
    );
    assert_eq!(text, "query anchor js");
    assert_eq!(
        md,
        "[query](https://site.example/q?a=1&b=2) [anchor](https://site.example/dir/page.html#sec) \
         js [![pic](https://site.example/dir/i.png)](https://site.example/dir/x)"
    );
}

#[test]
fn adjacent_links_are_not_glued() {
    let (text, _) =
        both("<body><nav><a href=/>Home</a><a href=/s>SPORT NEWS</a>›<a>Now</a></nav></body>");
    assert_eq!(text, "Home SPORT NEWS › Now");
}

#[test]
fn headings_lists_and_quotes() {
    let (text, md) = both(
        "<body><h2>Title <a href=#t>¶</a></h2><ul><li>one<ul><li>inner</li></ul></li>\
         <li><p>two</p></li></ul><ol start=3><li>c</li><li>d</li></ol>\
         <blockquote><p>quoted</p><p>more</p></blockquote></body>",
    );
    assert_eq!(text, "Title ¶\n\none\ninner\ntwo\n\nc\nd\n\nquoted\n\nmore");
    assert_eq!(
        md,
        "## Title [¶](https://site.example/dir/page.html#t)\n\n- one\n  - inner\n- two\n\n\
         3. c\n4. d\n\n> quoted\n>\n> more"
    );
}

#[test]
fn code_blocks_keep_their_lines_and_language() {
    let (text, md) = both(
        "<body><p>run <code>a`b</code></p><pre class='language-rust'><code>fn main() {\n    x();\n}\n</code></pre></body>",
    );
    assert_eq!(text, "run a`b\n\nfn main() {\n    x();\n}");
    assert_eq!(md, "run ``a`b``\n\n```rust\nfn main() {\n    x();\n}\n```");
}

#[test]
fn tables_are_pipe_tables_or_lines() {
    let (text, md) = both(
        "<body><table><tr><th>Name</th><th>Price</th></tr><tr><td>Desk|A</td><td>€ 10<br>now</td></tr></table>\
         <table><tr><td>no</td><td>header</td></tr></table></body>",
    );
    assert_eq!(text, "Name Price\nDesk|A € 10 now\n\nno header");
    assert_eq!(
        md,
        "| Name | Price |\n| --- | --- |\n| Desk\\|A | € 10 now |\n\n| | |\n| --- | --- |\n| no | header |"
    );
}

#[test]
fn hidden_and_unrendered_elements_are_left_out() {
    let (text, _) = both(
        "<body><p>shown</p><p hidden>h</p><div style='display: none'>d</div><script>s</script>\
         <noscript>n</noscript><span aria-hidden=true>a</span><button>Click</button></body>",
    );
    assert_eq!(
        text, "shown\n\nnClick",
        "what shows without scripts is shown"
    );
}
