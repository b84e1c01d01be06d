//! The built client (`--dist`), served compressed, with validators and a
//! cache policy.
//!
//! Each file is read and compressed once, with brotli (quality 11) and
//! gzip (level 9), and kept in memory with its three forms; a request gets
//! the smallest form its `Accept-Encoding` allows, with
//! `Vary: Accept-Encoding` and a strong `ETag` per form, and `304 Not
//! Modified` for an `If-None-Match` that matches. A file is read again
//! when its size or modification time changes, so a rebuilt `dist/` needs
//! no restart (as the pages' Content-Security-Policy, computed here per
//! page, does not either).
//!
//! Caching: names that carry a content hash (Trunk's `-<hash>` names when
//! `filehash` is on) are `immutable` for a year; the stable names other
//! sites load for `<roster-users>` and `mount()` are `no-cache`: kept,
//! and revalidated by their ETag on each use (a 304 is a few hundred
//! bytes).
//!
//! `roster-server precompress` ([`precompress`]) writes the same forms
//! beside each file (`FILE.br`, `FILE.gz`), for nginx's `brotli_static`
//! and `gzip_static` (`deploy/nginx.conf`); this server then reads them
//! instead of compressing again, while they are newer than their file.
//!
//! Why not tower-http's `ServeDir` with its precompressed variants: it
//! needs `.br`/`.gz` files beside each one, which a plain `trunk build`
//! does not write, and it has no `ETag`. The compressors are the `brotli`
//! and `flate2` crates.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::csp;

/// One encoding a file may be sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    fn token(self) -> Option<&'static str> {
        match self {
            Self::Identity => None,
            Self::Gzip => Some("gzip"),
            Self::Brotli => Some("br"),
        }
    }
}

/// A file as it is served: its bytes in each form, read once.
struct Asset {
    len: u64,
    modified: Option<SystemTime>,
    content_type: &'static str,
    /// The SHA-256 of the file, shortened: the root of every form's ETag.
    digest: String,
    /// The Content-Security-Policy of a page.
    policy: Option<String>,
    identity: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
}

impl Asset {
    fn read(path: &Path, len: u64, modified: Option<SystemTime>) -> std::io::Result<Self> {
        let raw = std::fs::read(path)?;
        let content_type = content_type(path);
        let digest = Sha256::digest(&raw)
            .iter()
            .take(12)
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let policy = (content_type.starts_with("text/html"))
            .then(|| csp::policy_for(csp::inline_scripts(&String::from_utf8_lossy(&raw))));
        let (gzip, brotli) = if compressible(content_type) {
            // Kept only where smaller: a tiny file can grow.
            let smaller = |packed: Vec<u8>| (packed.len() < raw.len()).then(|| Bytes::from(packed));
            let form =
                |suffix: &str, compress: Compressor| match precompressed(path, suffix, modified) {
                    Some(packed) => Ok(packed),
                    None => compress(&raw),
                };
            (
                smaller(form(GZIP_SUFFIX, gzip)?),
                smaller(form(BROTLI_SUFFIX, brotli)?),
            )
        } else {
            (None, None)
        };
        Ok(Self {
            len,
            modified,
            content_type,
            digest,
            policy,
            identity: Bytes::from(raw),
            gzip,
            brotli,
        })
    }

    /// The form to send for `accepted`, and its encoding.
    fn form(&self, accepted: &Accepted) -> (Encoding, &Bytes) {
        let forms = [
            (Encoding::Brotli, self.brotli.as_ref()),
            (Encoding::Gzip, self.gzip.as_ref()),
        ];
        forms
            .into_iter()
            .filter_map(|(encoding, bytes)| Some((encoding, bytes?)))
            .filter(|(encoding, _)| accepted.allows(*encoding))
            .min_by_key(|(_, bytes)| bytes.len())
            .unwrap_or((Encoding::Identity, &self.identity))
    }
}

/// The client's files under one directory, each kept once read.
pub struct Assets {
    dir: PathBuf,
    cache: Mutex<HashMap<PathBuf, Arc<Asset>>>,
    /// Held while a file is read and compressed, so that the start-up
    /// warming and the first visitors compress each file once, not once
    /// each (brotli 11 is the slow part of a cold start).
    reading: Mutex<()>,
}

impl Assets {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            cache: Mutex::default(),
            reading: Mutex::default(),
        }
    }

    /// Reads and compresses every file now, so the first visitor does not
    /// wait for brotli. Blocks (about a second for the client, unless it
    /// was precompressed).
    pub fn warm(&self) {
        let mut files = Vec::new();
        collect_files(&self.dir, &mut files);
        for file in files
            .into_iter()
            .filter(|file| !is_precompressed_form(file))
        {
            if let Ok(relative) = file.strip_prefix(&self.dir) {
                let _ = self.asset(relative);
            }
        }
    }

    /// The answer to `method` `path` with `headers`; `None` when there is
    /// no such file (the router answers 404). Blocks when the file must
    /// be read.
    pub fn answer(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<Response<Body>> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let relative = safe_path(path)?;
        let asset = self.asset(&relative)?;
        let accepted = Accepted::parse(headers.get(header::ACCEPT_ENCODING));
        let (encoding, body) = asset.form(&accepted);
        let etag = match encoding.token() {
            Some(token) => format!("\"{}-{token}\"", asset.digest),
            None => format!("\"{}\"", asset.digest),
        };
        let mut response = Response::builder()
            .header(header::VARY, "Accept-Encoding")
            .header(header::ETAG, &etag)
            .header(header::CACHE_CONTROL, cache_control(&relative))
            .header(header::CONTENT_TYPE, asset.content_type);
        if let Some(policy) = asset
            .policy
            .as_deref()
            .and_then(|p| HeaderValue::from_str(p).ok())
        {
            response = response.header(header::CONTENT_SECURITY_POLICY, policy);
        }
        if matches_etag(headers.get(header::IF_NONE_MATCH), &etag) {
            return response
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .ok();
        }
        if let Some(token) = encoding.token() {
            response = response.header(header::CONTENT_ENCODING, token);
        }
        let response = response.header(header::CONTENT_LENGTH, body.len());
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(body.clone())
        };
        response.body(body).ok()
    }

    /// The asset at `relative`, read again if the file changed.
    fn asset(&self, relative: &Path) -> Option<Arc<Asset>> {
        let mut path = self.dir.join(relative);
        let mut meta = std::fs::metadata(&path).ok()?;
        let mut key = relative.to_path_buf();
        if meta.is_dir() {
            path = path.join("index.html");
            key = key.join("index.html");
            meta = std::fs::metadata(&path).ok()?;
        }
        if !meta.is_file() {
            return None;
        }
        let modified = meta.modified().ok();
        let fresh = |asset: &Arc<Asset>| asset.len == meta.len() && asset.modified == modified;
        if let Some(asset) = self.cached(&key).filter(fresh) {
            return Some(asset);
        }
        let _reading = self.reading.lock().unwrap_or_else(|p| p.into_inner());
        // Another thread may have read it while this one waited.
        if let Some(asset) = self.cached(&key).filter(fresh) {
            return Some(asset);
        }
        let asset = Arc::new(Asset::read(&path, meta.len(), modified).ok()?);
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, Arc::clone(&asset));
        Some(asset)
    }

    fn cached(&self, key: &Path) -> Option<Arc<Asset>> {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }
}

/// What `Accept-Encoding` allows: each coding with a quality above zero.
struct Accepted {
    gzip: bool,
    brotli: bool,
}

impl Accepted {
    fn parse(header: Option<&HeaderValue>) -> Self {
        let mut accepted = Self {
            gzip: false,
            brotli: false,
        };
        let text = header
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let mut any = None;
        let (mut gzip, mut brotli) = (None, None);
        for item in text.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|param| param.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            let allowed = Some(quality > 0.0);
            match coding.as_str() {
                "gzip" | "x-gzip" => gzip = allowed,
                "br" => brotli = allowed,
                "*" => any = allowed,
                _ => {}
            }
        }
        accepted.gzip = gzip.or(any).unwrap_or(false);
        accepted.brotli = brotli.or(any).unwrap_or(false);
        accepted
    }

    fn allows(&self, encoding: Encoding) -> bool {
        match encoding {
            Encoding::Identity => true,
            Encoding::Gzip => self.gzip,
            Encoding::Brotli => self.brotli,
        }
    }
}

/// Whether an `If-None-Match` header names `etag` (or is `*`).
fn matches_etag(header: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(text) = header.and_then(|value| value.to_str().ok()) else {
        return false;
    };
    text.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// The cache policy of a file: a year for names that carry a content
/// hash, revalidation for the stable names.
pub fn cache_control(relative: &Path) -> &'static str {
    if has_content_hash(relative) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// Whether a file's name carries a hash of its content, as Trunk names
/// files when `filehash` is on: `roster-<16 hex>.js`,
/// `roster-<16 hex>_bg.wasm`, `main-<16 hex>.css`. Directories do not
/// count: wasm-bindgen's `snippets/<crate>-<16 hex>/` names the crate, not
/// what is in it, so a file there changes under the same name.
fn has_content_hash(relative: &Path) -> bool {
    let Some(name) = relative.file_name() else {
        return false;
    };
    let name = name.to_string_lossy();
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A request path as a path under the directory: `/` is `index.html`;
/// `..` and the like are refused.
fn safe_path(path: &str) -> Option<PathBuf> {
    let path = path.split('?').next().unwrap_or_default();
    let decoded = percent_decode(path)?;
    let mut relative = PathBuf::new();
    for part in decoded.split('/').filter(|part| !part.is_empty()) {
        if part == "." || part == ".." || part.contains('\\') || part.contains('\0') {
            return None;
        }
        relative.push(part);
    }
    Some(relative)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A compressor of one form.
type Compressor = fn(&[u8]) -> std::io::Result<Vec<u8>>;

/// Suffixes of the forms [`precompress`] writes beside a file.
const GZIP_SUFFIX: &str = ".gz";
const BROTLI_SUFFIX: &str = ".br";

/// `path` with `suffix` added to its name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Where [`precompress`] wrote a form of `path`, when that form is at
/// least as new as its file (an older one is of an earlier build, and is
/// ignored).
fn fresh_form(path: &Path, suffix: &str, modified: Option<SystemTime>) -> Option<PathBuf> {
    let form = beside(path, suffix);
    let written = std::fs::metadata(&form).ok()?.modified().ok()?;
    (written >= modified?).then_some(form)
}

/// The bytes of a fresh form written by [`precompress`].
fn precompressed(path: &Path, suffix: &str, modified: Option<SystemTime>) -> Option<Vec<u8>> {
    std::fs::read(fresh_form(path, suffix, modified)?).ok()
}

/// Whether `path` is a form [`precompress`] wrote (its file is beside it).
fn is_precompressed_form(path: &Path) -> bool {
    [GZIP_SUFFIX, BROTLI_SUFFIX].iter().any(|suffix| {
        let name = path.as_os_str().to_string_lossy();
        name.strip_suffix(suffix)
            .is_some_and(|file| Path::new(file).is_file())
    })
}

/// Writes `FILE.br` and `FILE.gz` beside each compressible file under
/// `dir` where compressing makes it smaller, unless a form is already newer
/// than its file. Returns the forms written. For servers that send files
/// from disk as they are (nginx's `brotli_static`, `gzip_static`).
pub fn precompress(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    collect_files(dir, &mut files);
    if files.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no files under {}", dir.display()),
        ));
    }
    let mut written = Vec::new();
    for file in files
        .into_iter()
        .filter(|file| !is_precompressed_form(file))
    {
        if !compressible(content_type(&file)) {
            continue;
        }
        let modified = std::fs::metadata(&file)?.modified().ok();
        let raw = std::fs::read(&file)?;
        let forms: [(&str, Compressor); 2] = [(GZIP_SUFFIX, gzip), (BROTLI_SUFFIX, brotli)];
        for (suffix, compress) in forms {
            if fresh_form(&file, suffix, modified).is_some() {
                continue;
            }
            let form = beside(&file, suffix);
            let packed = compress(&raw)?;
            if packed.len() < raw.len() {
                std::fs::write(&form, packed)?;
                written.push(form);
            } else if form.exists() {
                // An earlier build's form, bigger than this one's file.
                std::fs::remove_file(&form)?;
            }
        }
    }
    Ok(written)
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether compressing a type can pay: text and wasm, not images already
/// packed.
fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/wasm")
        || content_type.starts_with("application/json")
        || content_type.starts_with("image/svg")
}

fn gzip(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(raw)?;
    encoder.finish()
}

fn brotli(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let mut packed = Vec::new();
    brotli::BrotliCompress(&mut &raw[..], &mut packed, &params)?;
    Ok(packed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(header: &str) -> Accepted {
        Accepted::parse(Some(&HeaderValue::from_str(header).unwrap()))
    }

    #[test]
    fn accept_encoding_is_read_with_its_qualities() {
        let chrome = accepted("gzip, deflate, br, zstd");
        assert!(chrome.gzip && chrome.brotli);
        let no_br = accepted("br;q=0, gzip;q=0.5");
        assert!(no_br.gzip && !no_br.brotli);
        let any = accepted("*");
        assert!(any.gzip && any.brotli);
        let any_but_gzip = accepted("gzip;q=0, *;q=0.1");
        assert!(!any_but_gzip.gzip && any_but_gzip.brotli);
        let none = Accepted::parse(None);
        assert!(!none.gzip && !none.brotli);
    }

    #[test]
    fn only_names_with_a_content_hash_are_immutable() {
        for (path, immutable) in [
            ("snippets/roster-05581a8ad26f00a0/inline0.js", false),
            ("roster-1a2b3c4d5e6f7a8b_bg.wasm", true),
            ("roster-1a2b3c4d5e6f7a8b.js", true),
            ("main-1a2b3c4d5e6f7a8b.css", true),
            ("roster_bg.wasm", false),
            ("roster.js", false),
            ("index.html", false),
            ("main-abc.css", false),
        ] {
            let policy = cache_control(Path::new(path));
            assert_eq!(policy.contains("immutable"), immutable, "{path}");
        }
    }

    #[test]
    fn paths_stay_inside_the_directory() {
        assert_eq!(safe_path("/"), Some(PathBuf::new()));
        assert_eq!(safe_path("/a/b.js?x=1"), Some(PathBuf::from("a/b.js")));
        assert_eq!(safe_path("/a%20b.html"), Some(PathBuf::from("a b.html")));
        for bad in ["/../etc/passwd", "/a/%2e%2e/b", "/a\\b", "/%zz"] {
            assert_eq!(safe_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_if_none_match_names_a_form_or_everything() {
        let etag = "\"abc-br\"";
        let header = |text: &str| HeaderValue::from_str(text).unwrap();
        assert!(matches_etag(Some(&header("\"abc-br\"")), etag));
        assert!(matches_etag(Some(&header("W/\"x\", \"abc-br\"")), etag));
        assert!(matches_etag(Some(&header("*")), etag));
        assert!(!matches_etag(Some(&header("\"abc\"")), etag));
        assert!(!matches_etag(None, etag));
    }
}
