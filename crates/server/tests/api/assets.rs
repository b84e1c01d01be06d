//! The built client as the server sends it: brotli or gzip as the browser
//! accepts, strong ETags per form and 304s, a cache policy by name, and a
//! rebuilt file picked up without a restart.

use std::io::Read as _;

use crate::helpers::TestApp;

/// A script big and repetitive enough to compress well.
fn script() -> String {
    "export function greet(name) { return `hello ${name}`; }\n".repeat(200)
}

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn inflate_gzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn inflate_brotli(bytes: &[u8]) -> String {
    let mut text = String::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[tokio::test]
async fn each_browser_gets_the_smallest_form_it_accepts_and_the_same_file_inside() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<title>t</title>").unwrap();
    std::fs::write(dist.path().join("roster.js"), script()).unwrap();
    let app = TestApp::spawn_serving(dist.path()).await;

    let br = get(
        &app,
        "/roster.js",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["vary"], "Accept-Encoding");
    let br_tag = br.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = br.bytes().await.unwrap();
    assert!(bytes.len() * 10 < script().len(), "{} bytes", bytes.len());
    assert_eq!(inflate_brotli(&bytes), script());

    let gz = get(&app, "/roster.js", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let gz_tag = gz.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(inflate_gzip(&gz.bytes().await.unwrap()), script());

    let plain = get(&app, "/roster.js", &[]).await;
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_tag = plain.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(plain.text().await.unwrap(), script());

    assert!(br_tag != gz_tag && gz_tag != plain_tag, "one ETag per form");
    // A cached form is confirmed with a 304 and no body.
    let again = get(
        &app,
        "/roster.js",
        &[("accept-encoding", "br"), ("if-none-match", &br_tag)],
    )
    .await;
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    let other = get(
        &app,
        "/roster.js",
        &[("accept-encoding", "gzip"), ("if-none-match", &br_tag)],
    )
    .await;
    assert_eq!(other.status(), 200, "another form's tag does not match");
}

#[tokio::test]
async fn stable_names_are_revalidated_and_hashed_names_kept_a_year() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<title>t</title>").unwrap();
    let snippets = dist.path().join("snippets/roster-05581a8ad26f00a0");
    std::fs::create_dir_all(&snippets).unwrap();
    std::fs::write(snippets.join("inline0.js"), "export const a = 1;").unwrap();
    std::fs::write(
        dist.path().join("roster-0123456789abcdef_bg.wasm"),
        b"\0asm",
    )
    .unwrap();
    let app = TestApp::spawn_serving(dist.path()).await;
    let page = get(&app, "/", &[]).await;
    assert_eq!(page.headers()["cache-control"], "no-cache");
    // wasm-bindgen's snippet directory names the crate, not the content.
    let snippet = get(&app, "/snippets/roster-05581a8ad26f00a0/inline0.js", &[]).await;
    assert_eq!(snippet.headers()["cache-control"], "no-cache");
    let hashed = get(&app, "/roster-0123456789abcdef_bg.wasm", &[]).await;
    assert_eq!(
        hashed.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(hashed.headers()["content-type"], "application/wasm");
    assert_eq!(get(&app, "/../Cargo.toml", &[]).await.status(), 404);
    assert_eq!(get(&app, "/missing.js", &[]).await.status(), 404);
}

#[tokio::test]
async fn a_rebuilt_file_is_served_new_without_a_restart() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<script>one()</script>").unwrap();
    let app = TestApp::spawn_serving(dist.path()).await;
    let first = get(&app, "/", &[("accept-encoding", "br")]).await;
    let first_tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let first_policy = first.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    std::fs::write(
        dist.path().join("index.html"),
        "<script>two(); three()</script>",
    )
    .unwrap();
    let second = get(
        &app,
        "/",
        &[("accept-encoding", "br"), ("if-none-match", &first_tag)],
    )
    .await;
    assert_eq!(second.status(), 200);
    assert_ne!(second.headers()["etag"].to_str().unwrap(), first_tag);
    assert_ne!(
        second.headers()["content-security-policy"]
            .to_str()
            .unwrap(),
        first_policy
    );
}

#[tokio::test]
async fn precompressed_forms_are_written_once_and_served_as_they_are() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<title>t</title>").unwrap();
    std::fs::write(dist.path().join("roster.js"), script()).unwrap();
    std::fs::write(dist.path().join("icon.png"), [0x89, b'P', b'N', b'G']).unwrap();
    let written = roster_server::assets::precompress(dist.path()).unwrap();
    let mut names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // The page is too small to shrink; the image is not compressible.
    assert_eq!(names, ["roster.js.br", "roster.js.gz"]);
    let br = std::fs::read(dist.path().join("roster.js.br")).unwrap();
    assert_eq!(inflate_brotli(&br), script());
    let gz = std::fs::read(dist.path().join("roster.js.gz")).unwrap();
    assert_eq!(inflate_gzip(&gz), script());
    // Up to date: nothing written again.
    assert!(roster_server::assets::precompress(dist.path())
        .unwrap()
        .is_empty());

    // The server sends the forms from disk: mark the brotli form so it
    // can be told from a fresh compression (it is still valid brotli of
    // a different text, and newer than its file).
    let marked = "export const marked = true;\n".repeat(100);
    let mut packed = Vec::new();
    let params = brotli::enc::BrotliEncoderParams::default();
    brotli::BrotliCompress(&mut marked.as_bytes(), &mut packed, &params).unwrap();
    std::fs::write(dist.path().join("roster.js.br"), &packed).unwrap();
    let app = TestApp::spawn_serving(dist.path()).await;
    let served = get(&app, "/roster.js", &[("accept-encoding", "br")]).await;
    assert_eq!(served.headers()["content-encoding"], "br");
    assert_eq!(inflate_brotli(&served.bytes().await.unwrap()), marked);

    // A rebuilt file makes its forms stale: compressed afresh, and
    // precompress writes them again.
    let rebuilt = script().replace("hello", "hi");
    std::fs::write(dist.path().join("roster.js"), &rebuilt).unwrap();
    // Newer than its forms, whatever the clock's resolution.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
    std::fs::File::options()
        .write(true)
        .open(dist.path().join("roster.js"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let served = get(&app, "/roster.js", &[("accept-encoding", "br")]).await;
    assert_eq!(inflate_brotli(&served.bytes().await.unwrap()), rebuilt);
    assert_eq!(
        roster_server::assets::precompress(dist.path())
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn precompressing_a_missing_directory_says_so() {
    let err =
        roster_server::assets::precompress(std::path::Path::new("/nonexistent/dist")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}
