//! A small HTTP/1.1 server on 127.0.0.1 for fetch tests, answering as the access point
//! and Geofabrik do: byte ranges with `If-Range` against a strong ETag (a changed file
//! answers 200 with the whole new file), `416` with `Content-Range: bytes */N`, redirects
//! (the API's stable resource `url` answers 302 to the file), JSON with a status, files
//! that can be replaced while the server runs, connections cut half-way and bodies
//! corrupted on demand.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub path: String,
    pub range_start: Option<u64>,
    pub if_range: Option<String>,
    pub status: u16,
}

#[derive(Clone)]
pub enum Answer {
    /// A file: its bytes can be replaced (`Route::replace`) while the server runs.
    File(Route),
    /// `302 Found` to another path of this server (or a full URL).
    Redirect(String),
    /// A JSON body with a status (404 `{"errors": "dataset not found"}`...).
    Json(u16, String),
}

#[derive(Clone)]
pub struct Route {
    pub body: Arc<Mutex<Arc<Vec<u8>>>>,
    pub content_type: &'static str,
    /// Cut the connection after half the body, this many more times.
    pub cuts_left: Arc<Mutex<u32>>,
    /// Serve a copy with bytes flipped in the middle, this many more times.
    pub corrupt_left: Arc<Mutex<u32>>,
}

impl Route {
    /// Replaces the file (a new version: a new ETag).
    pub fn replace(&self, body: Vec<u8>) {
        *self.body.lock().unwrap() = Arc::new(body);
    }
    pub fn corrupt_next(&self, times: u32) {
        *self.corrupt_left.lock().unwrap() = times;
    }
    pub fn cut_next(&self, times: u32) {
        *self.cuts_left.lock().unwrap() = times;
    }
}

pub struct TestServer {
    pub base: String,
    pub hits: Arc<Mutex<Vec<Hit>>>,
}

impl TestServer {
    /// (range start, If-Range) of every request for `path`, in order.
    pub fn requests(&self, path: &str) -> Vec<Hit> {
        self.hits.lock().unwrap().iter().filter(|h| h.path == path).cloned().collect()
    }
}

pub fn route(body: Vec<u8>, content_type: &'static str, cuts: u32) -> Route {
    Route { body: Arc::new(Mutex::new(Arc::new(body))), content_type, cuts_left: Arc::new(Mutex::new(cuts)), corrupt_left: Arc::new(Mutex::new(0)) }
}

/// A server of files only (every path a file).
pub fn start(routes: HashMap<String, Route>) -> TestServer {
    start_answers(routes.into_iter().map(|(k, v)| (k, Answer::File(v))).collect())
}

pub fn start_answers(routes: HashMap<String, Answer>) -> TestServer {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let hits = Arc::new(Mutex::new(Vec::new()));
    let routes = Arc::new(routes);
    let h = hits.clone();
    let b = base.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let routes = routes.clone();
            let h = h.clone();
            let b = b.clone();
            std::thread::spawn(move || {
                let _ = handle(s, &routes, &h, &b);
            });
        }
    });
    TestServer { base, hits }
}

/// A strong ETag of the bytes (FNV-1a, enough to tell versions apart).
pub fn etag(body: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in body {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("\"{:016x}-{}\"", h, body.len())
}

fn handle(mut s: TcpStream, routes: &HashMap<String, Answer>, hits: &Mutex<Vec<Hit>>, base: &str) -> std::io::Result<()> {
    let mut r = BufReader::new(s.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range = None;
    let mut if_range = None;
    let mut if_none_match = None;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("range: bytes=") {
            range = v.trim().trim_end_matches('-').parse::<u64>().ok();
        }
        if lower.starts_with("if-range:") {
            if_range = Some(h["if-range:".len()..].trim().to_string());
        }
        if lower.starts_with("if-none-match:") {
            if_none_match = Some(h["if-none-match:".len()..].trim().to_string());
        }
    }
    let mut hit = Hit { path: path.clone(), range_start: range, if_range: if_range.clone(), status: 404 };
    // The whole answer is prepared, then the hit recorded, then written: a client that
    // has its answer always finds its hit in the log.
    let (bytes, cut_at): (Vec<u8>, Option<usize>) = match routes.get(&path).cloned() {
        None => (b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found".to_vec(), None),
        Some(Answer::Redirect(to)) => {
            hit.status = 302;
            let loc = if to.starts_with("http") { to } else { format!("{base}{to}") };
            (format!("HTTP/1.1 302 Found\r\nLocation: {loc}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").into_bytes(), None)
        }
        Some(Answer::Json(status, body)) => {
            hit.status = status;
            let reason = if status == 200 { "OK" } else { "Not Found" };
            (format!("HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).into_bytes(), None)
        }
        Some(Answer::File(rt)) if if_none_match.as_deref().is_some_and(|v| v == etag(&rt.body.lock().unwrap())) => {
            hit.status = 304;
            (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(), None)
        }
        Some(Answer::File(rt)) => file_answer(&rt, range, if_range, &mut hit),
    };
    hits.lock().unwrap().push(hit);
    match cut_at {
        Some(n) => {
            s.write_all(&bytes[..n])?;
            s.flush()?;
            let _ = s.shutdown(std::net::Shutdown::Both);
            Ok(())
        }
        None => s.write_all(&bytes),
    }
}

/// The bytes of a file answer, and where to cut the connection when asked to.
fn file_answer(rt: &Route, range: Option<u64>, if_range: Option<String>, hit: &mut Hit) -> (Vec<u8>, Option<usize>) {
    let current = rt.body.lock().unwrap().clone();
    let tag = etag(&current);
    let corrupt = take(&rt.corrupt_left);
    let body: Vec<u8> = if corrupt {
        let mut b = current.to_vec();
        let mid = b.len() / 2;
        for x in b.iter_mut().skip(mid).take(64) {
            *x ^= 0x5a;
        }
        b
    } else {
        current.to_vec()
    };
    let total = body.len() as u64;
    // RFC 9110 13.1.5: a Range is honoured only when If-Range (if any) matches.
    let range = range.filter(|_| if_range.as_deref().is_none_or(|v| v == tag));
    if let Some(start) = range {
        if start >= total {
            hit.status = 416;
            return (format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").into_bytes(), None);
        }
    }
    let start = range.unwrap_or(0);
    let slice = &body[start as usize..];
    let head = if range.is_some() {
        hit.status = 206;
        format!("HTTP/1.1 206 Partial Content\r\nContent-Type: {}\r\nETag: {tag}\r\nContent-Length: {}\r\nContent-Range: bytes {}-{}/{}\r\nConnection: close\r\n\r\n", rt.content_type, slice.len(), start, total.saturating_sub(1), total)
    } else {
        hit.status = 200;
        format!("HTTP/1.1 200 OK\r\nContent-Type: {}\r\nETag: {tag}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n", rt.content_type, slice.len())
    };
    let mut out = head.into_bytes();
    let head_len = out.len();
    out.extend_from_slice(slice);
    let cut = take(&rt.cuts_left).then_some(head_len + slice.len() / 2);
    (out, cut)
}

fn take(counter: &Mutex<u32>) -> bool {
    let mut c = counter.lock().unwrap();
    if *c > 0 {
        *c -= 1;
        true
    } else {
        false
    }
}
